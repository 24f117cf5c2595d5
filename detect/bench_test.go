package detect

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkObserve measures the detector per request, over a thousand keys.
func BenchmarkObserve(b *testing.B) {
	d := New(Config{})
	ip := netip.MustParseAddr("10.1.2.3")
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key%09d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Observe(Observation{Time: week0.Add(time.Duration(i) * 10 * time.Millisecond), KeyID: keys[i%len(keys)],
			Model: "gpt-4o-mini", SourceIP: ip, Tokens: 500, CostNano: 300_000})
		i++
	}
}
