package store_test

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// cpuTime returns the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsertSpend writes batches of rows with random-looking ids, as the spend
// writer does under load: one key and model per batch (the usual case) or 50 keys.
// ns/op is per batch; cpu-µs/row is the process's CPU time per row, which on a busy
// machine is steadier than wall time.
func BenchmarkInsertSpend(b *testing.B) {
	for _, engine := range storetest.Engines() {
		for _, tc := range []struct {
			name       string
			rows, keys int
		}{{"500rows_1key", 500, 1}, {"500rows_50keys", 500, 50}, {"50rows_1key", 50, 1}} {
			b.Run(engine+"/"+tc.name, func(b *testing.B) {
				db := storetest.Open(b, engine)
				batch := make([]store.SpendRow, tc.rows)
				at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
				n := 0
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					for i := range batch {
						n++
						id := "req_" + strconv.FormatUint(uint64(n)*0x9E3779B97F4A7C15, 16)
						batch[i] = spendRow(id, at.Add(time.Duration(n)*time.Millisecond), "key"+strconv.Itoa(n%tc.keys), "gpt-4o", 1234)
					}
					// With a deadline, as the spend writer calls it.
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					_, err := db.InsertSpend(ctx, batch, time.UTC)
					cancel()
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N*tc.rows), "cpu-µs/row")
			})
		}
	}
}
