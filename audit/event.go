// Package audit is tollgate's append-only, hash-chained record of every admin action and
// security event. Each row carries the hash of the row before it, so editing, deleting
// or reordering a row breaks the chain at that row, and the verifier names it.
package audit

import "time"

// Actor is who did something, and from where.
type Actor struct {
	// ID is the admin token id, the client key id, or "system".
	ID string
	// Name is a display name for the actor.
	Name      string
	SourceIP  string
	RequestID string
}

// Event is one audited action. It never holds a secret: targets are ids, and Details
// hold only non-secret facts (names, fingerprints, hints, counts).
type Event struct {
	Actor Actor
	// Action is a dotted verb such as "key.create", "key.revoke", "provider_key.add",
	// "vault.rotate" or "admin.auth_failed".
	Action string
	// Target names what was acted on, such as "key:AbCdEfGhIjKl" or "provider:openai".
	Target  string
	Details map[string]any
	Time    time.Time
}
