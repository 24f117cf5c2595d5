package detect

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// steady feeds n requests a minute, evenly spaced, for minutes minutes from start,
// from ip, and returns the findings.
func steady(d *Detector, key string, start time.Time, minutes, n int, ip string) []Finding {
	var out []Finding
	addr := netip.MustParseAddr(ip)
	for m := range minutes {
		t := start.Add(time.Duration(m) * time.Minute)
		for i := range n {
			out = append(out, d.Observe(Observation{Time: t.Add(time.Duration(i) * time.Minute / time.Duration(n)),
				KeyID: key, Model: "gpt-4o-mini", SourceIP: addr, Tokens: 1000, CostNano: 600_000})...)
		}
		out = append(out, d.Advance(t.Add(time.Minute))...)
	}
	return out
}

func TestNothingIsScoredDuringWarmUp(t *testing.T) {
	d := New(Config{})
	steady(d, "k", week0, 5, 10, "10.0.0.1")
	if got := steady(d, "k", week0.Add(5*time.Minute), 1, 500, "10.9.9.9"); len(got) != 0 {
		t.Fatalf("a key in warm-up raised %+v", got)
	}
}

func TestSmallKeysStayUnderTheFloors(t *testing.T) {
	d := New(Config{})
	steady(d, "k", week0, 60, 2, "10.0.0.1")
	// Ten times two requests a minute is still under the 30-request floor.
	if got := steady(d, "k", week0.Add(time.Hour), 5, 20, "10.0.0.1"); len(got) != 0 {
		t.Fatalf("a small key raised %+v", got)
	}
	if got := steady(d, "k", week0.Add(time.Hour+5*time.Minute), 1, 200, "10.0.0.1"); len(got) != 1 || got[0].Kind != KindVolumeSpike {
		t.Fatalf("a hundredfold spike above the floor: %+v", got)
	}
}

func TestNewNetworksAreIPv4Slash24AndIPv6Slash48(t *testing.T) {
	d := New(Config{Cooldown: time.Nanosecond})
	steady(d, "k", week0, 40, 10, "10.0.0.1")
	steady(d, "k", week0, 40, 10, "2001:db8:1:2::1")
	start := week0.Add(40 * time.Minute)
	for _, c := range []struct {
		ip  string
		new bool
	}{{"10.0.0.200", false}, {"10.0.1.1", true}, {"::ffff:10.0.0.7", false}, {"2001:db8:1:ffff::9", false},
		{"2001:db8:2::1", true}} {
		got := d.Observe(Observation{Time: start, KeyID: "k", SourceIP: netip.MustParseAddr(c.ip)})
		if (len(got) == 1 && got[0].Kind == KindNewNetwork) != c.new {
			t.Errorf("%s: findings %+v, want new network %v", c.ip, got, c.new)
		}
		start = start.Add(time.Second)
	}
}

func TestAKeySeenFromManyNetworksStopsRaisingNewOnes(t *testing.T) {
	d := New(Config{MaxNetworks: 8, Cooldown: time.Nanosecond})
	steady(d, "k", week0, 40, 10, "10.0.0.1")
	raised := 0
	for i := range 20 {
		ip := netip.MustParseAddr(fmt.Sprintf("10.0.%d.1", i+1))
		raised += len(d.Observe(Observation{Time: week0.Add(time.Hour + time.Duration(i)*time.Second), KeyID: "k", SourceIP: ip}))
	}
	if raised != 6 { // networks 2..7 are new; the eighth makes the key "wide"
		t.Errorf("raised %d new-network findings, want 6", raised)
	}
}

func TestNewModelsAreLearnedFromAnsweredRequestsOnly(t *testing.T) {
	d := New(Config{})
	steady(d, "k", week0, 40, 10, "10.0.0.1")
	at := week0.Add(time.Hour)
	if got := d.Observe(Observation{Time: at, KeyID: "k", Model: "made-up", Error: true}); len(got) != 0 {
		t.Errorf("a failed request for an unknown model raised %+v", got)
	}
	got := d.Observe(Observation{Time: at, KeyID: "k", Model: "o3"})
	if len(got) != 1 || got[0].Kind != KindNewModel || got[0].Severity != SeverityLow || got[0].Details["model"] != "o3" {
		t.Errorf("first answered request for o3: %+v", got)
	}
	if got := d.Observe(Observation{Time: at, KeyID: "k", Model: "o3"}); len(got) != 0 {
		t.Errorf("second request for o3 raised %+v", got)
	}
}

func TestManySourceAddressesAreAnIPSpread(t *testing.T) {
	d := New(Config{})
	steady(d, "k", week0, 60, 40, "10.0.0.1")
	t0 := week0.Add(time.Hour)
	var got []Finding
	for i := range 40 {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})
		got = append(got, d.Observe(Observation{Time: t0.Add(time.Duration(i) * time.Second), KeyID: "k",
			Model: "gpt-4o-mini", SourceIP: ip, Tokens: 1000, CostNano: 600_000})...)
	}
	got = append(got, d.Advance(t0.Add(time.Minute))...)
	if len(got) != 1 || got[0].Kind != KindIPSpread || got[0].Severity != SeverityHigh {
		t.Fatalf("40 addresses in one network against a baseline of 1: %+v", got)
	}
}

func TestKeysAreBoundedAndForgottenLeastRecentlyUsedFirst(t *testing.T) {
	d := New(Config{MaxKeys: 3})
	for i := range 10 {
		d.Observe(Observation{Time: week0, KeyID: fmt.Sprint("k", i)})
	}
	if d.keys.len() != 3 {
		t.Fatalf("tracking %d keys, want 3", d.keys.len())
	}
	for _, k := range []string{"k7", "k8", "k9"} {
		if _, ok := d.keys.get(k); !ok {
			t.Errorf("%s, among the most recent, was forgotten", k)
		}
	}
}

func TestAnIdleKeyComesBackWithoutReplayingForever(t *testing.T) {
	d := New(Config{})
	steady(d, "k", week0, 60, 40, "10.0.0.1")
	st, _ := d.keys.get("k")
	// A year of silence costs at most emptyWindowsCap windows, and decays the baseline.
	d.Observe(Observation{Time: week0.AddDate(1, 0, 0), KeyID: "k"})
	if st.base[sigRequests].mean > 0.001 {
		t.Errorf("after a year idle the baseline is %v requests a minute", st.base[sigRequests].mean)
	}
}

func TestFindingIDsAreStable(t *testing.T) {
	run := func() string {
		d := New(Config{})
		steady(d, "k", week0, 60, 40, "10.0.0.1")
		got := steady(d, "k", week0.Add(time.Hour), 1, 400, "10.0.0.1")
		if len(got) != 1 {
			t.Fatalf("findings %+v", got)
		}
		return got[0].ID
	}
	if a, b := run(), run(); a != b || len(a) != len("anom_")+20 {
		t.Errorf("ids %q and %q", a, b)
	}
}
