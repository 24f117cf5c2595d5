package keys

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

// Store is the part of the store the authenticator uses.
type Store interface {
	GetKey(ctx context.Context, id string) (*store.Key, error)
	ListKeys(ctx context.Context, f store.KeyFilter) ([]*store.Key, error)
	UseKey(ctx context.Context, id string) (bool, error)
}

// Authenticator turns a presented key into a Principal. Keys are served from an
// in-memory cache by public id; the store is read only for an id the cache has not seen
// (a key created on another replica), for keys with a use cap (one atomic update per
// use), and when told a key changed (Invalidate). Unknown ids are remembered briefly so
// that well-formed garbage cannot hammer the database.
type Authenticator struct {
	store  Store
	hasher *Hasher
	now    func() time.Time
	dummy  []byte

	mu      sync.RWMutex
	cache   map[string]*entry
	missing map[string]time.Time

	// reload serialises Invalidate, Reload and Refresh, so that a later reload's
	// answer is never overwritten by an earlier one's. gen counts them, so that a cache
	// miss that read the store meanwhile knows its answer may be stale.
	reload    sync.Mutex
	gen       atomic.Uint64
	watermark time.Time
}

// NegativeTTL is how long an unknown key id is remembered as unknown.
const NegativeTTL = 2 * time.Second

const maxMissing = 100_000

// ErrBadCredential marks authentication failures that could be guesses: a malformed,
// unknown or wrong key. Expired, revoked and disabled keys are not guesses: the secret
// was right. The server slows down repeated bad credentials from one address.
var ErrBadCredential = errors.New("bad credential")

var errInvalid = apierr.InvalidAPIKey("Incorrect API key provided. You can find your tollgate key where it was created; keys are shown once.").
	WithCause(ErrBadCredential)

// NewAuthenticator returns an authenticator over a store. now may be nil.
func NewAuthenticator(s Store, h *Hasher, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{store: s, hasher: h, now: now, dummy: h.Sum("tollgate dummy key"),
		cache: map[string]*entry{}, missing: map[string]time.Time{}}
}

// Authenticate checks a presented key: its format and checksum first, then the cached
// hash in constant time, then its status and expiry, and for an ephemeral key its
// parent's. It does not check IP or time-of-day rules, nor count uses; Admit does.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (*Principal, error) {
	parsed, err := Parse(key)
	if err != nil {
		return nil, errInvalid
	}
	sum := a.hasher.Sum(key)
	e, err := a.lookup(ctx, parsed.ID)
	if err != nil {
		return nil, err
	}
	if e == nil || e.kind != parsed.Kind {
		equal(sum, a.dummy) // the same work as a known id
		return nil, errInvalid
	}
	now := a.now()
	ok := equal(sum, e.hash)
	if !ok && e.prevHash != nil && now.Before(e.graceUntil) {
		ok = equal(sum, e.prevHash)
	}
	if !ok {
		return nil, errInvalid
	}
	if err := e.usable(now, ""); err != nil {
		return nil, err
	}
	if e.kind != KindEphemeral {
		return e.principal, nil
	}
	return a.linkParent(ctx, e, now)
}

// Admit is Authenticate for a request from ip: it also checks the IP and time-of-day
// rules of the key (and of its parent), and counts a use of a key with a use cap.
func (a *Authenticator) Admit(ctx context.Context, key string, ip netip.Addr) (*Principal, error) {
	p, err := a.Authenticate(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := p.CheckAccess(ip, a.now()); err != nil {
		return nil, err
	}
	if p.MaxRequests > 0 {
		ok, err := a.store.UseKey(ctx, p.ID)
		if err != nil {
			return nil, storeUnavailable(err)
		}
		if !ok {
			return nil, apierr.New(apierr.KindCaller, 401, "invalid_request_error", "expired_api_key",
				"This ephemeral key has used all of its requests.")
		}
	}
	return p, nil
}

// linkParent checks an ephemeral key's parent and returns the child's principal linked
// to the parent's current one.
func (a *Authenticator) linkParent(ctx context.Context, e *entry, now time.Time) (*Principal, error) {
	pe, err := a.lookup(ctx, e.principal.ParentID)
	if err != nil {
		return nil, err
	}
	if pe == nil || pe.kind != KindClient {
		return nil, errRevoked("The key this ephemeral key was minted from no longer exists.")
	}
	if err := pe.usable(now, "The key this ephemeral key was minted from "); err != nil {
		return nil, err
	}
	if l := e.linked.Load(); l != nil && l.parent == pe.principal {
		return l, nil
	}
	l := e.principal.withParent(pe.principal)
	e.linked.Store(l)
	return l, nil
}

func errRevoked(msg string) error {
	return apierr.New(apierr.KindCaller, 401, "invalid_request_error", "revoked_api_key", msg)
}

func errExpired(msg string) error {
	return apierr.New(apierr.KindCaller, 401, "invalid_request_error", "expired_api_key", msg)
}

func storeUnavailable(err error) error {
	return apierr.New(apierr.KindGateway, 503, "service_unavailable", "store_unavailable",
		"the key store is unavailable; try again shortly").WithCause(err)
}

// usable checks the entry's status and expiry at now; subject starts the messages
// about a parent key.
func (e *entry) usable(now time.Time, subject string) error {
	if subject == "" {
		subject = "This API key "
	}
	switch e.status {
	case "active":
	case "revoked":
		return errRevoked(subject + "has been revoked.")
	case "deleted":
		return apierr.InvalidAPIKey(subject + "has been deleted.")
	default:
		return apierr.InvalidAPIKey(subject + "is disabled.")
	}
	if !e.expiresAt.IsZero() && !now.Before(e.expiresAt) {
		return errExpired(subject + "has expired.")
	}
	return nil
}

// InvalidationTopic is the invalidate topic of keys: its messages carry a key id.
const InvalidationTopic = "keys"
