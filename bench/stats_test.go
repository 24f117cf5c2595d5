package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestQuantileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(201-i)*time.Millisecond) // 200ms down to 1ms
	}
	got := distOf(d)
	if got.P50 != 100 || got.P99 != 198 || got.Max != 200 {
		t.Fatalf("distOf = %+v, want p50 100, p99 198, max 200", got)
	}
	if one := distOf([]time.Duration{1500 * time.Microsecond}); one.P50 != 1.5 || one.P99 != 1.5 || one.Max != 1.5 {
		t.Fatalf("one sample: %+v", one)
	}
	if (distOf(nil) != dist{}) {
		t.Fatal("no samples must give zeros")
	}
	o := dist{P50: 1.25, P99: 3, Max: 9}.minus(dist{P50: 1, P99: 3.5, Max: 4})
	if o.P50 != 0.25 || o.P99 != -0.5 || o.Max != 5 {
		t.Fatalf("minus = %+v", o)
	}
}

func TestCPUPerRequestCountsFailedRequests(t *testing.T) {
	s := samples{ok: 900, bad: 100, cpu: 50} // 50 ticks = 0.5 s
	if got := s.cpuPerRequest(); got != 500 {
		t.Fatalf("cpuPerRequest = %v µs, want 500", got)
	}
	if (&samples{}).cpuPerRequest() != 0 {
		t.Fatal("no requests must give 0")
	}
}

func TestParseProcFiles(t *testing.T) {
	// The command name holds spaces and a parenthesis, as a process may name itself.
	stat := "4242 (tollgate (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 731 269 0 0 20 0 9 0 100 0 0"
	if n, err := parseStatCPU([]byte(stat)); err != nil || n != 1000 {
		t.Fatalf("parseStatCPU = %d, %v; want 1000", n, err)
	}
	if _, err := parseStatCPU([]byte("4242 (x) S 1")); err == nil {
		t.Fatal("a short stat line was accepted")
	}
	status := "Name:\ttollgate\nVmHWM:\t  101368 kB\nVmRSS:\t   99000 kB\n"
	if kb, err := parseStatusKB([]byte(status), "VmHWM"); err != nil || kb != 101368 {
		t.Fatalf("VmHWM = %d, %v", kb, err)
	}
	if _, err := parseStatusKB([]byte(status), "VmSwap"); err == nil {
		t.Fatal("a missing field was found")
	}
}

func TestOwnProcessIsMeasurable(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc: " + err.Error())
	}
	if _, err := parseStatCPU(b); err != nil {
		t.Fatalf("parsing this process's stat: %v", err)
	}
	st, _ := os.ReadFile("/proc/self/status")
	if kb, err := parseStatusKB(st, "VmHWM"); err != nil || kb <= 0 {
		t.Fatalf("VmHWM of this process: %d, %v", kb, err)
	}
}

func TestBodiesDifferPerRequestOnlyInTheirNumber(t *testing.T) {
	b := newBodies("bench-1", settings{Chunks: 24, OpenDelay: duration(time.Second)})
	first, second := string(b.chat.next()), string(b.chat.next())
	if first == second || strings.Replace(first, "request 1.", "request 2.", 1) != second {
		t.Fatalf("bodies:\n%s\n%s", first, second)
	}
	slow := string(b.slow.next())
	if !strings.Contains(slow, `"model":"bench-1"`) || !strings.Contains(slow, `"chunks":600,"chunk_delay_ms":1000`) {
		t.Fatalf("slow body: %s", slow)
	}
	if !strings.Contains(string(b.stream.next()), `"stream_options":{"include_usage":true}`) {
		t.Fatal("stream bodies must ask for usage, so that the byte check compares whole streams")
	}
}
