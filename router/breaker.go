package router

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerSettings tune the circuit breakers. Zero fields take the defaults in
// parentheses.
type BreakerSettings struct {
	// ConsecutiveFailures opens the breaker after that many failures in a row (5).
	ConsecutiveFailures uint32
	// FailureRatio opens the breaker when at least MinRequests requests in the window
	// failed at this ratio or more (0.5).
	FailureRatio float64
	// MinRequests is the fewest requests in the window for the ratio to count (20).
	MinRequests uint32
	// Window is the rolling window of the ratio, in ten buckets (60s).
	Window time.Duration
	// OpenTimeout is how long an open breaker stays open before probing (30s).
	OpenTimeout time.Duration
	// Probes is how many requests a half-open breaker lets through, and how many
	// successes in a row close it (1).
	Probes uint32
}

func (s BreakerSettings) withDefaults() BreakerSettings {
	if s.ConsecutiveFailures == 0 {
		s.ConsecutiveFailures = 5
	}
	if s.FailureRatio <= 0 {
		s.FailureRatio = 0.5
	}
	if s.MinRequests == 0 {
		s.MinRequests = 20
	}
	if s.Window <= 0 {
		s.Window = time.Minute
	}
	if s.OpenTimeout <= 0 {
		s.OpenTimeout = 30 * time.Second
	}
	if s.Probes == 0 {
		s.Probes = 1
	}
	return s
}

// The outcomes reported to gobreaker: nil is a success.
var (
	errCounted  = errors.New("counted failure")
	errExcluded = errors.New("not counted")
)

// Breaker states as shown in health, gobreaker's names.
const (
	StateClosed   = "closed"
	StateOpen     = "open"
	StateHalfOpen = "half-open"
)

// breaker is a gobreaker circuit breaker with an atomic mirror of its state, so that
// selection can skip an open breaker without taking gobreaker's lock, and with the
// openings other replicas announced.
type breaker struct {
	id string
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]
	// state mirrors gobreaker's state; openUntil is when a local opening ends.
	state     atomic.Int32
	openUntil atomic.Int64
	// remoteUntil is when an opening announced by another replica ends (Unix ns).
	remoteUntil atomic.Int64
}

// newBreaker builds a breaker; changed is told about every transition, under
// gobreaker's lock, so it must not block.
func newBreaker(id string, s BreakerSettings, changed func(b *breaker, to gobreaker.State)) *breaker {
	b := &breaker{id: id}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         id,
		MaxRequests:  s.Probes,
		Interval:     s.Window,
		BucketPeriod: s.Window / 10,
		Timeout:      s.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			n := c.TotalSuccesses + c.TotalFailures
			return c.ConsecutiveFailures >= s.ConsecutiveFailures ||
				(n >= s.MinRequests && float64(c.TotalFailures) >= s.FailureRatio*float64(n))
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.openUntil.Store(time.Now().Add(s.OpenTimeout).UnixNano())
			}
			b.state.Store(int32(to))
			if changed != nil {
				changed(b, to)
			}
		},
	})
	return b
}

// available reports whether the breaker may let a request through at now (Unix ns),
// from the mirror alone. An open breaker whose open period is over is available: the
// request that takes it becomes its probe.
func (b *breaker) available(now int64) bool {
	if b.remoteUntil.Load() > now {
		return false
	}
	return gobreaker.State(b.state.Load()) != gobreaker.StateOpen || b.openUntil.Load() <= now
}

// allow asks gobreaker for a slot; done reports the outcome (nil, errCounted or
// errExcluded) exactly once.
func (b *breaker) allow() (done func(error), ok bool) {
	done, err := b.cb.Allow()
	return done, err == nil
}

// retryAt is when an unavailable breaker will let requests through again (Unix ns).
func (b *breaker) retryAt() int64 {
	until := b.remoteUntil.Load()
	if gobreaker.State(b.state.Load()) == gobreaker.StateOpen {
		until = max(until, b.openUntil.Load())
	}
	return until
}

// stateName is the breaker's state for health: gobreaker's, or open while another
// replica's announced opening lasts.
func (b *breaker) stateName(now int64) string {
	if b.remoteUntil.Load() > now {
		return StateOpen
	}
	return b.cb.State().String()
}
