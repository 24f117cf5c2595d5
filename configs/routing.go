package configs

// Routing tunes the router for every model: its circuit breakers and how long a stream
// may stay silent. Zero fields take the defaults given.
type Routing struct {
	// StreamIdleTimeout is the longest silence allowed between two chunks of a
	// stream; a stream silent for longer fails with 504 (before its first chunk, the
	// next target is tried). Default 5m.
	StreamIdleTimeout Duration `yaml:"stream_idle_timeout"`
	// Breaker tunes the circuit breaker of every target and provider key.
	Breaker Breaker `yaml:"breaker"`
}

// Breaker tunes circuit breakers. A breaker opens after ConsecutiveFailures failures
// in a row, or when at least MinRequests requests within Window failed at FailureRatio
// or more; it stays open for OpenTimeout, then lets Probes requests through and closes
// after as many successes in a row.
type Breaker struct {
	ConsecutiveFailures int      `yaml:"consecutive_failures"` // default 5
	FailureRatio        float64  `yaml:"failure_ratio"`        // default 0.5
	MinRequests         int      `yaml:"min_requests"`         // default 20
	Window              Duration `yaml:"window"`               // default 60s
	OpenTimeout         Duration `yaml:"open_timeout"`         // default 30s
	Probes              int      `yaml:"probes"`               // default 1
}

func (v *validator) routing() {
	r := v.c.Routing
	v.duration("routing.stream_idle_timeout", r.StreamIdleTimeout)
	b := r.Breaker
	v.duration("routing.breaker.window", b.Window)
	v.duration("routing.breaker.open_timeout", b.OpenTimeout)
	for _, f := range []struct {
		path string
		n    int
	}{{"routing.breaker.consecutive_failures", b.ConsecutiveFailures}, {"routing.breaker.min_requests", b.MinRequests},
		{"routing.breaker.probes", b.Probes}} {
		if f.n < 0 || f.n > 1_000_000 {
			v.add(f.path, "%d is not a count from 0 (the default) to 1000000", f.n)
		}
	}
	if b.FailureRatio < 0 || b.FailureRatio > 1 {
		v.add("routing.breaker.failure_ratio", "%v is not a ratio from 0 (the default) to 1", b.FailureRatio)
	}
}
