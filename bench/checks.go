package main

import "fmt"

// The targets.
const (
	lowP50Factor    = 1.5  // p50 overhead at the low rate, against the floor's
	lowP99Factor    = 2.0  // p99 overhead at the low rate
	highP99Factor   = 3.0  // p99 overhead at the high rate
	highP99CapMS    = 10.0 // and never above this
	capacityShare   = 0.70 // capacity, against the floor's
	cpuFactor       = 1.8  // CPU per request, against the floor's
	peakRSSLimitMB  = 64.0
	openStreamsMB   = 1024.0
	spendRowsStatus = "ok"
)

// evaluate computes every target for each tollgate in the report, against the floor of
// the same run.
func evaluate(r *report) []check {
	var out []check
	for _, tg := range r.Targets {
		if !isTollgate(tg) {
			continue
		}
		out = append(out, evaluateOne(r, tg)...)
	}
	return out
}

func isTollgate(name string) bool { return len(name) >= 8 && name[:8] == "tollgate" }

func evaluateOne(r *report, tg string) []check {
	var out []check
	add := func(key, name string, value, limit float64, pass bool) {
		out = append(out, check{Target: tg, Key: key, Name: name, Value: round3(value), Limit: round3(limit), Pass: pass})
	}
	// Figures are kept to the microsecond; comparing them rounded keeps float noise
	// (0.1 + 0.2) out of the verdicts.
	atMost := func(key, name string, value, limit float64) {
		add(key, name, value, limit, round3(value) <= round3(limit))
	}
	if n := len(r.OpenLoop); n > 0 {
		low, high := r.OpenLoop[0], r.OpenLoop[n-1]
		if t, f, ok := overheads(low, tg); ok {
			atMost("low_p50", fmt.Sprintf("p50 overhead at %d req/s ≤ %.1f× floor", low.Rate, lowP50Factor), t.P50, lowP50Factor*f.P50)
			atMost("low_p99", fmt.Sprintf("p99 overhead at %d req/s ≤ %.0f× floor", low.Rate, lowP99Factor), t.P99, lowP99Factor*f.P99)
		}
		if t, f, ok := overheads(high, tg); ok && n > 1 {
			atMost("high_p99", fmt.Sprintf("p99 overhead at %d req/s ≤ %.0f× floor and ≤ %.0f ms", high.Rate, highP99Factor, highP99CapMS),
				t.P99, min(highP99Factor*f.P99, highP99CapMS))
		}
		if t, f := high.Results[tg], high.Results["floor"]; f.CPUPerRequest > 0 {
			atMost("cpu", fmt.Sprintf("CPU per request at %d req/s ≤ %.1f× floor", high.Rate, cpuFactor), t.CPUPerRequest, cpuFactor*f.CPUPerRequest)
		}
	}
	if t, f := r.Capacity.Results[tg], r.Capacity.Results["floor"]; f.RPS > 0 {
		add("capacity", fmt.Sprintf("capacity ≥ %.0f%% of floor", capacityShare*100), t.RPS, capacityShare*f.RPS, round3(t.RPS) >= round3(capacityShare*f.RPS))
	}
	if v, ok := r.PeakRSSMB[tg]; ok {
		add("rss", fmt.Sprintf("peak RSS < %.0f MB", peakRSSLimitMB), v, peakRSSLimitMB, v < peakRSSLimitMB)
	}
	if o, ok := r.OpenStreams.Results[tg]; ok && r.OpenStreams.Streams > 0 {
		add("open_streams", fmt.Sprintf("%d open streams in < 1 GiB", r.OpenStreams.Streams), o.PeakMB, openStreamsMB,
			o.PeakMB < openStreamsMB && o.Held == int64(r.OpenStreams.Streams) && o.Errors == 0)
	}
	if s, ok := r.Spend[tg]; ok {
		add("spend", "zero lost spend rows", float64(s.Answered-s.Rows), 0, s.Status == spendRowsStatus)
	}
	if b, ok := r.Streaming.ByteCheck[tg]; ok {
		v := 0.0
		if b.Identical {
			v = 1
		}
		add("bytes", fmt.Sprintf("%d-chunk stream identical to direct", r.Streaming.Chunks), v, 1, b.Identical)
	}
	return out
}

// overheads returns the overheads of tollgate tg and of the floor in one scenario.
func overheads(o openLoop, tg string) (t, f dist, ok bool) {
	tr, fr := o.Results[tg], o.Results["floor"]
	if tr.Overhead == nil || fr.Overhead == nil {
		return dist{}, dist{}, false
	}
	return *tr.Overhead, *fr.Overhead, true
}
