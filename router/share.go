package router

import (
	"time"
)

// Share tells other replicas about breaker openings and closings. Announce is called
// under a breaker's lock: it must not block (queue and return).
type Share interface {
	Announce(id string, open bool, d time.Duration)
}

// Remote receives the openings and closings other replicas announced; *Router
// implements it.
type Remote interface {
	// RemoteOpen keeps breaker id out of selection for d.
	RemoteOpen(id string, d time.Duration)
	// RemoteClose ends an announced opening of breaker id.
	RemoteClose(id string)
}

var _ Remote = (*Router)(nil)

// RemoteOpen keeps the target or key whose breaker is id out of selection for d, as
// another replica announced. Unknown ids are ignored: this replica does not route there.
func (r *Router) RemoteOpen(id string, d time.Duration) {
	if b := r.reg.breaker(id); b != nil && d > 0 {
		b.remoteUntil.Store(time.Now().Add(d).UnixNano())
	}
}

// RemoteClose ends an opening another replica announced for breaker id.
func (r *Router) RemoteClose(id string) {
	if b := r.reg.breaker(id); b != nil {
		b.remoteUntil.Store(0)
	}
}
