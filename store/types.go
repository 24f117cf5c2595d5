package store

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a row with the same unique key already exists.
var ErrConflict = errors.New("store: conflict")

// Key is one client key, ephemeral child key or admin token row. Only the HMAC of the
// secret is stored; list-valued and object-valued settings are stored as JSON text.
type Key struct {
	// ID is the public key id (the 12 base62 characters after the prefix).
	ID string
	// Kind is "client", "ephemeral" or "admin".
	Kind string
	// Hash is HMAC-SHA256 of the full key under the server secret.
	Hash []byte
	// PrevHash is the hash of the secret this one replaced by rotation; it is accepted
	// until GraceUntil.
	PrevHash   []byte
	GraceUntil *time.Time
	// Hint is a display form that reveals no secret, like "tgk_AbCdEfGhIjKl_…WxYz".
	Hint     string
	Name     string
	Project  string
	Owner    string
	ParentID string
	// Status is "active", "disabled", "revoked" or "deleted". A deleted key is a
	// tombstone: it never authenticates, is hidden from the admin API, and keeps its id
	// and name for the spend history.
	Status string
	// Role is an admin token's role, "admin" or "viewer"; empty for other kinds.
	Role string
	// MaxUses caps how many requests the key may make (ephemeral keys); zero means no
	// cap. Uses counts them, and is changed only by UseKey.
	MaxUses int64
	Uses    int64
	// RevokeReason is the reason given when the key was revoked.
	RevokeReason string
	// Settings is the key's scopes, limits, budget and metadata as a JSON object; its
	// shape belongs to the keys package.
	Settings  []byte
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt *time.Time
	RevokedAt *time.Time
}

// KeyFilter selects keys in ListKeys. Empty fields match everything.
type KeyFilter struct {
	Kind string
	// Kinds matches any of the kinds listed.
	Kinds     []string
	Project   string
	Owner     string
	Status    string
	CreatedBy string
	ParentID  string
	// SkipDeleted leaves out deleted keys (tombstones).
	SkipDeleted bool
	// ChangedSince, when not zero, keeps only keys updated at or after it.
	ChangedSince time.Time
	// After is a cursor: only ids greater than it, in id order.
	After string
	// Limit caps the number of rows; zero means no limit.
	Limit int
}

// KeySelector picks the client keys of a revocation by every non-empty field: one key by
// ID, or all of an owner, a project or a creator.
type KeySelector struct {
	ID        string
	Owner     string
	Project   string
	CreatedBy string
}

// Project is a named group of keys with its own limits and budget. Settings is a JSON
// object whose shape belongs to the keys package.
type Project struct {
	Name      string
	Settings  []byte
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}
