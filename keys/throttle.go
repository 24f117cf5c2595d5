package keys

import (
	"net/netip"
	"sync"
	"time"
)

// Throttle slows down repeated authentication failures from one address, without
// locking out anyone else: each address (an IPv4 address, or an IPv6 /64, since one
// host easily holds a whole /64) has a token bucket of failures. Every failure takes a
// token; tokens come back at a steady rate; an address with no token left is refused
// before any key is checked until one comes back. Successful requests cost nothing.
// Memory is bounded: at the cap, idle buckets are dropped first, then arbitrary ones
// (which only gives an attacker spraying addresses a fresh bucket, as a new address
// would).
type Throttle struct {
	burst  float64
	every  time.Duration
	max    int
	now    func() time.Time
	mu     sync.Mutex
	bucket map[netip.Prefix]*failBucket
}

type failBucket struct {
	tokens float64
	at     time.Time
}

// ThrottleOptions configure a Throttle; zero values take the defaults.
type ThrottleOptions struct {
	// Burst is how many failures in a row an address may have; default 20.
	Burst int
	// Every is how often an address gets one failure back; default 3s.
	Every time.Duration
	// MaxAddresses bounds the addresses tracked; default 65536.
	MaxAddresses int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// NewThrottle returns a throttle.
func NewThrottle(o ThrottleOptions) *Throttle {
	if o.Burst <= 0 {
		o.Burst = 20
	}
	if o.Every <= 0 {
		o.Every = 3 * time.Second
	}
	if o.MaxAddresses <= 0 {
		o.MaxAddresses = 65536
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Throttle{burst: float64(o.Burst), every: o.Every, max: o.MaxAddresses, now: o.Now,
		bucket: map[netip.Prefix]*failBucket{}}
}

// throttleKey is the unit of throttling for ip.
func throttleKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// refill brings b up to date at now.
func (t *Throttle) refill(b *failBucket, now time.Time) {
	b.tokens = min(t.burst, b.tokens+float64(now.Sub(b.at))/float64(t.every))
	b.at = now
}

// Allow reports whether ip may try to authenticate now; when not, it returns how long
// until it may.
func (t *Throttle) Allow(ip netip.Addr) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.bucket[throttleKey(ip)]
	if !ok {
		return 0, true
	}
	t.refill(b, t.now())
	if b.tokens >= 1 {
		return 0, true
	}
	return time.Duration((1 - b.tokens) * float64(t.every)), false
}

// Fail records a failed authentication from ip.
func (t *Throttle) Fail(ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now, k := t.now(), throttleKey(ip)
	b, ok := t.bucket[k]
	if !ok {
		t.makeRoom(now)
		b = &failBucket{tokens: t.burst, at: now}
		t.bucket[k] = b
	}
	t.refill(b, now)
	b.tokens = max(0, b.tokens-1)
}

// makeRoom keeps the map under its cap.
func (t *Throttle) makeRoom(now time.Time) {
	if len(t.bucket) < t.max {
		return
	}
	for k, b := range t.bucket {
		if t.refill(b, now); b.tokens >= t.burst {
			delete(t.bucket, k)
		}
	}
	for k := range t.bucket {
		if len(t.bucket) < t.max {
			break
		}
		delete(t.bucket, k)
	}
}

// Len returns the number of addresses tracked.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.bucket)
}
