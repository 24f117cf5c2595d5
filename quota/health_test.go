package quota

import (
	"errors"
	"testing"
	"time"
)

// TestProbeBackoff checks the pacing of probes while Redis is unreachable: calls that
// fail together do not lengthen the wait, failed probes double it up to ProbeMax, one
// caller probes at a time, and a success ends it all.
func TestProbeBackoff(t *testing.T) {
	c := newClock()
	opts := RedisOptions{ProbeMin: 100 * time.Millisecond, ProbeMax: 400 * time.Millisecond, Now: c.now}
	if err := opts.setDefaults(); err != nil {
		t.Fatal(err)
	}
	h, err := newHealth(opts)
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("connection refused")
	for range 30 {
		h.failed(down, false)
	}
	if !h.degraded.Load() || h.startProbe() {
		t.Fatal("want degraded, and no probe before ProbeMin")
	}
	for _, wait := range []time.Duration{100, 200, 400, 400} {
		c.advance(wait*time.Millisecond - time.Millisecond)
		if h.startProbe() {
			t.Fatalf("probe allowed before the %dms backoff", wait)
		}
		c.advance(time.Millisecond)
		if !h.startProbe() {
			t.Fatalf("no probe after the %dms backoff", wait)
		}
		if h.startProbe() {
			t.Fatal("two probes at once")
		}
		h.failed(down, true)
	}
	c.advance(time.Second)
	if !h.startProbe() {
		t.Fatal("no probe")
	}
	h.ok()
	if h.degraded.Load() || h.probing.Load() {
		t.Error("still degraded or probing after a success")
	}
}
