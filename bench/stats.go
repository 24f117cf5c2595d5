package main

import (
	"math"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// samples collects what one target did in one scenario, over all its slices.
type samples struct {
	// lat are the latencies of successful requests (whole answer read); ttft the times
	// to the first body byte of successful streams.
	lat, ttft []time.Duration
	ok, bad   int64
	firstErr  string
	// cpu is the gateway's CPU time over the slices, in USER_HZ ticks.
	cpu int64
	// wall is the time spent in the slices.
	wall time.Duration
}

// addResult records one vegeta result: success is a 2xx status with no error.
func (s *samples) addResult(r *vegeta.Result) {
	if r.Code >= 200 && r.Code < 300 && r.Error == "" {
		s.ok++
		s.lat = append(s.lat, r.Latency)
		return
	}
	s.fail(r.Error)
}

// addStream records one stream.
func (s *samples) addStream(r streamResult) {
	if r.err != nil {
		s.fail(r.err.Error())
		return
	}
	s.ok++
	s.lat = append(s.lat, r.total)
	s.ttft = append(s.ttft, r.ttft)
}

func (s *samples) fail(msg string) {
	s.bad++
	if s.firstErr == "" {
		s.firstErr = msg
	}
}

// rate returns successful requests per second of slice time.
func (s *samples) rate() float64 {
	if s.wall <= 0 {
		return 0
	}
	return float64(s.ok) / s.wall.Seconds()
}

// cpuPerRequest returns the gateway's CPU microseconds per request answered, counting
// failed requests too: the CPU was spent on them.
func (s *samples) cpuPerRequest() float64 {
	n := s.ok + s.bad
	if n == 0 {
		return 0
	}
	return float64(s.cpu) * (1e6 / userHZ) / float64(n)
}

// dist is a latency distribution in milliseconds.
type dist struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// distOf returns the exact percentiles of d (nearest rank over every sample, no
// histogram estimate); it sorts d.
func distOf(d []time.Duration) dist {
	if len(d) == 0 {
		return dist{}
	}
	slices.Sort(d)
	return dist{P50: ms(quantile(d, 0.50)), P99: ms(quantile(d, 0.99)), Max: ms(d[len(d)-1])}
}

// quantile returns the nearest-rank q-quantile of sorted: the smallest sample with at
// least q of the samples at or below it.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// minus returns a - b per percentile: a target's overhead over direct.
func (a dist) minus(b dist) dist {
	return dist{P50: round3(a.P50 - b.P50), P99: round3(a.P99 - b.P99), Max: round3(a.Max - b.Max)}
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// round3 rounds to three decimals (microseconds, for milliseconds), so the JSON holds
// no false precision.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// round1 rounds to one decimal.
func round1(f float64) float64 { return math.Round(f*10) / 10 }
