package main

import (
	"strings"
	"testing"
)

// sampleReport is a run where tollgate meets every target and tollgate-pg misses each
// one just barely.
func sampleReport() *report {
	lat := func(p50, p99 float64) figures {
		return figures{Latency: dist{P50: p50, P99: p99, Max: p99 + 1}, Overhead: &dist{P50: round3(p50 - 1), P99: round3(p99 - 2)}}
	}
	direct := figures{Latency: dist{P50: 1, P99: 2, Max: 3}}
	return &report{
		Targets: []string{"direct", "floor", "tollgate", "tollgate-pg"},
		OpenLoop: []openLoop{
			{Rate: 500, Results: map[string]figures{"direct": direct, "floor": lat(1.2, 2.5),
				"tollgate": lat(1.3, 3), "tollgate-pg": lat(1.31, 3.01)}}, // limits: 0.3 and 1.0 over direct
			{Rate: 2000, Results: map[string]figures{"direct": direct,
				"floor":       withCPU(lat(1.2, 5), 100),         // p99 overhead 3
				"tollgate":    withCPU(lat(1.5, 11), 180),        // 9 ≤ min(9, 10)
				"tollgate-pg": withCPU(lat(1.5, 11.01), 180.1)}}, // just over both
		},
		Capacity: capacity{Concurrency: 64, Results: map[string]figures{
			"direct": {RPS: 9000}, "floor": {RPS: 5000}, "tollgate": {RPS: 3500}, "tollgate-pg": {RPS: 3499}}},
		PeakRSSMB: map[string]float64{"floor": 20, "tollgate": 63.9, "tollgate-pg": 64},
		OpenStreams: openStreamsReport{Streams: 100, Results: map[string]openStreams{
			"tollgate": {Held: 100, PeakMB: 1000}, "tollgate-pg": {Held: 99, PeakMB: 500}}},
		Spend: map[string]spendCheck{"tollgate": {Answered: 10, Rows: 10, Status: "ok"},
			"tollgate-pg": {Answered: 10, Rows: 9, Status: "lost"}},
		Streaming: streaming{Chunks: 24, ByteCheck: map[string]byteCheck{
			"tollgate": {Identical: true}, "tollgate-pg": {Detail: "event 3 differs"}}},
	}
}

func withCPU(f figures, us float64) figures { f.CPUPerRequest = us; return f }

func TestEvaluateJudgesEachTargetAgainstTheFloor(t *testing.T) {
	r := sampleReport()
	checks := evaluate(r)
	keys := []string{"low_p50", "low_p99", "high_p99", "cpu", "capacity", "rss", "open_streams", "spend", "bytes"}
	if len(checks) != 2*len(keys) {
		t.Fatalf("%d checks, want %d: %+v", len(checks), 2*len(keys), checks)
	}
	for _, c := range checks {
		want := c.Target == "tollgate"
		if c.Pass != want {
			t.Errorf("%s %s: pass %v (value %v, limit %v), want %v", c.Target, c.Key, c.Pass, c.Value, c.Limit, want)
		}
	}
}

func TestEvaluateCapsHighRateOverheadAtTenMilliseconds(t *testing.T) {
	r := sampleReport()
	f := r.OpenLoop[1].Results["floor"]
	f.Overhead = &dist{P99: 5} // 3× would allow 15 ms
	r.OpenLoop[1].Results["floor"] = f
	for _, c := range evaluate(r) {
		if c.Key == "high_p99" && c.Limit != highP99CapMS {
			t.Fatalf("%s: limit %v, want the %v ms cap", c.Target, c.Limit, highP99CapMS)
		}
	}
}

func TestMarkdownHasAColumnPerTargetAndAVerdictPerTollgate(t *testing.T) {
	r := sampleReport()
	r.Checks = evaluate(r)
	md := markdown(r)
	lines := strings.Split(strings.TrimSpace(md), "\n")
	head := lines[0]
	for _, col := range []string{"direct", "floor", "tollgate (SQLite)", "tollgate (PG+Redis)", "verdict (SQLite)", "verdict (PG+Redis)"} {
		if !strings.Contains(head, col) {
			t.Fatalf("no %q column: %s", col, head)
		}
	}
	cols := strings.Count(head, "|")
	for _, l := range lines {
		if strings.Count(l, "|") != cols {
			t.Fatalf("ragged row: %s", l)
		}
	}
	row := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, "| "+prefix) {
				return l
			}
		}
		t.Fatalf("no row %q", prefix)
		return ""
	}
	if l := row("capacity"); !strings.Contains(l, "| 3500 |") || !strings.HasSuffix(l, "| PASS | MISS |") {
		t.Fatalf("capacity row: %s", l)
	}
	if l := row("500 req/s p50"); !strings.Contains(l, "1.300 (+0.300)") {
		t.Fatalf("latency row: %s", l)
	}
	if l := row("spend rows"); !strings.Contains(l, "9 / 10") {
		t.Fatalf("spend row: %s", l)
	}
}
