package router

import (
	"math"
	"time"
)

// TargetHealth is a target's live health as this replica sees it.
type TargetHealth struct {
	// State is the breaker's: closed, open or half-open. A breaker another replica
	// announced open shows open, with Remote set.
	State  string `json:"state"`
	Remote bool   `json:"remote,omitempty"`
	// RetryAt is when an open breaker lets a probe through.
	RetryAt *time.Time `json:"retry_at,omitempty"`
	// LatencyMS is the moving average of time to first byte; zero before any answer.
	LatencyMS float64 `json:"latency_ms"`
	// ErrorRate is the moving average of counted failures, 0 to 1.
	ErrorRate float64 `json:"error_rate"`
	InFlight  int64   `json:"in_flight"`
	// Requests and Failures count counted outcomes since the target appeared.
	Requests int64       `json:"requests"`
	Failures int64       `json:"failures"`
	Keys     []KeyStatus `json:"keys"`
}

// KeyStatus is a provider key's live health; it never holds the key.
type KeyStatus struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"`
	// State is active, disabled (the upstream rejected it), cooldown (after a 429),
	// open or half-open (its breaker).
	State         string     `json:"state"`
	CooldownUntil *time.Time `json:"cooldown_until,omitempty"`
}

// Health returns the target's live health.
func (t *Target) Health() TargetHealth {
	now := time.Now().UnixNano()
	st := t.st
	h := TargetHealth{State: st.br.stateName(now), Remote: st.br.remoteUntil.Load() > now,
		LatencyMS: float64(st.ewma.Load()) / 1e6, ErrorRate: math.Float64frombits(st.errRate.Load()),
		InFlight: st.inFlight.Load(), Requests: st.requests.Load(), Failures: st.failures.Load(),
		Keys: make([]KeyStatus, 0, len(t.keys))}
	if h.State != StateClosed {
		if at := st.br.retryAt(); at > now {
			h.RetryAt = timePtr(at)
		}
	}
	for i, k := range t.keys {
		h.Keys = append(h.Keys, k.status(t.Deployment.Keys[i].Label, now))
	}
	return h
}

func (k *keyState) status(label string, now int64) KeyStatus {
	s := KeyStatus{ID: k.credID, Label: label, State: "active"}
	switch bs := k.br.stateName(now); {
	case k.disabled.Load():
		s.State = "disabled"
	case bs != StateClosed:
		s.State = bs
	case k.cooldownUntil.Load() > now:
		s.State = "cooldown"
		s.CooldownUntil = timePtr(k.cooldownUntil.Load())
	}
	return s
}

func timePtr(ns int64) *time.Time {
	t := time.Unix(0, ns).UTC()
	return &t
}
