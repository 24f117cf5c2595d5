package router

import (
	"slices"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
)

func noDone(error) {}

// next chooses the next attempt in model m, waits when it must, and takes the breaker
// slots. It returns nil when m has nothing healthy left.
func (c *call) next(m *Route) (*attempt, error) {
	for range 2*len(m.Targets) + 2 { // every refusal below marks a target or key skipped
		now := time.Now().UnixNano()
		t, ki, readyAt := c.choose(m, now)
		if t == nil {
			return nil, nil
		}
		if wait := c.wait(t, ki, readyAt, now); wait > 0 {
			if err := c.sleep(wait); err != nil {
				return nil, err
			}
		}
		tDone, ok := t.st.br.allow()
		if !ok {
			c.skipped = append(c.skipped, t.st)
			continue
		}
		kDone := noDone
		if ki >= 0 {
			k := t.keys[ki]
			if kDone, ok = k.br.allow(); !ok {
				tDone(errExcluded)
				c.skippedKeys = append(c.skippedKeys, k)
				continue
			}
			c.triedKeys = append(c.triedKeys, k)
		}
		c.tried = append(c.tried, t.st)
		return &attempt{target: t, ki: ki, tDone: tDone, kDone: kDone}, nil
	}
	return nil, nil
}

// choose picks a target of m and one of its keys: an untried healthy target if there
// is one, else a tried one (with another key when it has one), else the target whose
// key comes out of a 429 cooldown first, with the time it does (readyAt, Unix ns).
func (c *call) choose(m *Route, now int64) (t *Target, ki int, readyAt int64) {
	cands := c.cands[:0]
	for pass := 0; pass < 2 && len(cands) == 0; pass++ {
		for _, t := range m.Targets {
			if slices.Contains(c.skipped, t.st) || (pass == 0 && slices.Contains(c.tried, t.st)) {
				continue
			}
			if !t.st.br.available(now) {
				c.noteRetry(t.st.br.retryAt())
				continue
			}
			if c.keyReady(t, now) {
				cands = append(cands, t)
			}
		}
	}
	if len(cands) == 0 {
		return c.coolest(m, now)
	}
	t = m.sel.Pick(cands, c.r.rand)
	return t, c.pickKey(t, now), 0
}

func (c *call) noteRetry(at int64) {
	if c.retryAt == 0 || at < c.retryAt {
		c.retryAt = at
	}
}

// usable reports whether this request may still use key k.
func (c *call) usable(k *keyState) bool { return !slices.Contains(c.skippedKeys, k) }

func (c *call) keyReady(t *Target, now int64) bool {
	if len(t.keys) == 0 {
		return true
	}
	for _, k := range t.keys {
		if c.usable(k) && k.ready(now) {
			return true
		}
	}
	return false
}

// pickKey picks a ready key by weight, preferring keys this request has not tried.
func (c *call) pickKey(t *Target, now int64) int {
	if len(t.keys) == 0 {
		return -1
	}
	for pass := 0; pass < 2; pass++ {
		in := func(k *keyState) bool {
			return c.usable(k) && k.ready(now) && (pass == 1 || !slices.Contains(c.triedKeys, k))
		}
		total := 0
		for i, k := range t.keys {
			if in(k) {
				total += max(t.Deployment.Keys[i].Weight, 1)
			}
		}
		if total == 0 {
			continue
		}
		x := c.r.rand(total)
		for i, k := range t.keys {
			if in(k) {
				if x -= max(t.Deployment.Keys[i].Weight, 1); x < 0 {
					return i
				}
			}
		}
	}
	return 0
}

// coolest finds the key of m that leaves its 429 cooldown first.
func (c *call) coolest(m *Route, now int64) (*Target, int, int64) {
	var best *Target
	bi, at := -1, int64(0)
	for _, t := range m.Targets {
		if slices.Contains(c.skipped, t.st) || !t.st.br.available(now) {
			continue
		}
		for i, k := range t.keys {
			if until, ok := k.coolUntil(now); ok && c.usable(k) && (best == nil || until < at) {
				best, bi, at = t, i, until
			}
		}
	}
	return best, bi, at
}

// wait is how long to wait before an attempt on t's key ki: until the key's cooldown
// ends, and when the previous attempt went to the same target and key, the backoff or
// the upstream's retry-after.
func (c *call) wait(t *Target, ki int, readyAt, now int64) time.Duration {
	var w time.Duration
	if readyAt > now {
		w = time.Duration(readyAt - now)
	}
	if p := c.prev; p != nil && p.target.st == t.st && p.ki == ki {
		b := c.backoff()
		if c.last != nil && c.last.RetryAfter > 0 {
			b = c.last.RetryAfter
		}
		w = max(w, b)
	}
	return w
}

// backoff is full jitter over Base·2^(attempts-1), capped at Max.
func (c *call) backoff() time.Duration {
	o := c.r.opts.Backoff
	ceiling := o.Base << min(max(c.meta.Attempts-1, 0), 20)
	if ceiling <= 0 || ceiling > o.Max {
		ceiling = o.Max
	}
	return time.Duration(c.r.rand(int(ceiling)) + 1)
}

// sleep waits d when it fits in the deadline; otherwise, or when the request ends
// meanwhile, it returns the request's answer.
func (c *call) sleep(d time.Duration) error {
	if time.Until(c.deadline) < d {
		if c.last == nil {
			e := apierr.New(apierr.KindProvider, 429, "requests", "rate_limit_exceeded",
				"every provider key for this model is cooling down after upstream rate limits; retry later")
			e.RetryAfter = d
			return e
		}
		return c.final()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
		return c.final()
	case <-t.C:
		return nil
	}
}
