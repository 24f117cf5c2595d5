package detect

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// traffic simulates one key's requests, minute by minute: a daily cycle (quiet nights,
// busy afternoons, quieter weekends), Poisson arrivals, long-tailed token counts with
// the odd very large prompt, a 1% background of client errors, a few servers in two
// networks and three models. Events change it for a while.
type traffic struct {
	rng    *rand.Rand
	key    string
	peak   float64 // requests per minute at the busiest hour of a weekday
	ips    []netip.Addr
	models []string
	events []event
}

// event changes the traffic during [from, to).
type event struct {
	from, to time.Time
	// volume multiplies the rate; errorRatio replaces the 1% of errors; ip, when set,
	// serves share of the requests.
	volume     float64
	errorRatio float64
	ip         netip.Addr
	share      float64
}

var week0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday

func newTraffic(seed uint64) *traffic {
	return &traffic{rng: rand.New(rand.NewPCG(seed, 7)), key: "AbCdEfGhIjKl", peak: 40,
		ips: []netip.Addr{netip.MustParseAddr("10.1.2.11"), netip.MustParseAddr("10.1.2.12"),
			netip.MustParseAddr("10.1.2.13"), netip.MustParseAddr("192.0.2.40")},
		models: []string{"gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "text-embedding-3-small"}}
}

// rate is the expected requests in the minute starting at t.
func (tr *traffic) rate(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	day := (1 - math.Cos(2*math.Pi*(h-3)/24)) / 2 // lowest at 03:00, highest at 15:00
	r := tr.peak * (0.15 + 0.85*day)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		r *= 0.4
	}
	if tr.rng.Float64() < 0.003 { // the odd batch job doubles a minute
		r *= 2
	}
	return r
}

func (tr *traffic) poisson(l float64) int {
	if l > 30 {
		return max(0, int(math.Round(l+math.Sqrt(l)*tr.rng.NormFloat64())))
	}
	n, p, limit := 0, 1.0, math.Exp(-l)
	for {
		if p *= tr.rng.Float64(); p <= limit {
			return n
		}
		n++
	}
}

func (tr *traffic) tokens() int64 {
	if tr.rng.Float64() < 0.0005 {
		return 20000 // a very large prompt
	}
	return int64(150 + math.Exp(6.3+0.8*tr.rng.NormFloat64()))
}

// minute returns the observations of the minute starting at t, in time order.
func (tr *traffic) minute(t time.Time) []Observation {
	r, errRatio := tr.rate(t), 0.01
	var extra *event
	for i := range tr.events {
		if e := &tr.events[i]; !t.Before(e.from) && t.Before(e.to) {
			r *= max(e.volume, 1)
			if e.errorRatio > 0 {
				errRatio = e.errorRatio
			}
			if e.ip.IsValid() {
				extra = e
			}
		}
	}
	n := tr.poisson(r)
	out := make([]Observation, n)
	for i := range out {
		tok := tr.tokens()
		o := Observation{Time: t.Add(time.Duration(tr.rng.Int64N(int64(time.Minute)))), KeyID: tr.key,
			Project: "web", Model: tr.models[tr.rng.IntN(len(tr.models))], SourceIP: tr.ips[tr.rng.IntN(len(tr.ips))],
			Tokens: tok, CostNano: tok * 600, Error: tr.rng.Float64() < errRatio}
		if extra != nil && tr.rng.Float64() < extra.share {
			o.SourceIP = extra.ip
		}
		out[i] = o
	}
	slices.SortFunc(out, func(a, b Observation) int { return a.Time.Compare(b.Time) })
	return out
}

// replay runs minutes of traffic through a detector, advancing it at each minute's
// end as the service's ticker does, and returns every finding.
func replay(tr *traffic, minutes int) []Finding {
	d := New(Config{})
	var out []Finding
	for m := range minutes {
		t := week0.Add(time.Duration(m) * time.Minute)
		for _, o := range tr.minute(t) {
			out = append(out, d.Observe(o)...)
		}
		out = append(out, d.Advance(t.Add(time.Minute))...)
	}
	return out
}

const week = 7 * 1440

func TestSteadyTrafficRaisesNothingForAWeek(t *testing.T) {
	for seed := range uint64(3) {
		if got := replay(newTraffic(seed), week); len(got) != 0 {
			t.Errorf("seed %d: %d findings on steady traffic, first: %+v", seed, len(got), got[0])
		}
	}
}

// at is a time on the simulated Wednesday.
func at(hour, minute int) time.Time {
	return week0.AddDate(0, 0, 2).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

func TestEachEventRaisesExactlyOneFinding(t *testing.T) {
	newNet := netip.MustParseAddr("203.0.113.50")
	cases := []struct {
		name     string
		ev       event
		kind     string
		severity string
	}{
		{"tenfold volume for 20 minutes", event{from: at(14, 0), to: at(14, 20), volume: 10}, KindVolumeSpike, SeverityHigh},
		{"a new /24 for an hour", event{from: at(10, 0), to: at(11, 0), ip: newNet, share: 0.05}, KindNewNetwork, SeverityMedium},
		{"70% errors for 20 minutes", event{from: at(16, 0), to: at(16, 20), errorRatio: 0.7}, KindErrorBurst, SeverityMedium},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for seed := range uint64(3) {
				tr := newTraffic(seed)
				tr.events = []event{c.ev}
				got := replay(tr, 4*1440)
				if len(got) != 1 {
					t.Fatalf("seed %d: %d findings, want 1: %+v", seed, len(got), got)
				}
				f := got[0]
				if f.Kind != c.kind || f.Severity != c.severity || f.KeyID != tr.key || f.Project != "web" {
					t.Errorf("seed %d: finding %+v", seed, f)
				}
				if f.Time.Before(c.ev.from) || f.Time.After(c.ev.from.Add(5*time.Minute)) {
					t.Errorf("seed %d: raised at %s for an event starting at %s", seed, f.Time, c.ev.from)
				}
			}
		})
	}
}
