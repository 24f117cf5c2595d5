package keys

import (
	"context"
	"encoding/json"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fixture is an authenticator over a real store with a settable clock.
type fixture struct {
	ctx  context.Context
	db   *store.DB
	clk  *clock
	h    *Hasher
	auth *Authenticator
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	h := NewHasher(testSecret)
	return &fixture{ctx: context.Background(), db: db, clk: clk, h: h, auth: NewAuthenticator(db, h, clk.now)}
}

// create stores a new client key and returns its row and secret.
func (f *fixture) create(t *testing.T, req CreateRequest) (*store.Key, string) {
	t.Helper()
	r, key, err := NewClientKey(f.h, req, "test", f.clk.t)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateKey(f.ctx, r); err != nil {
		t.Fatal(err)
	}
	return r, key
}

// update writes r and tells the authenticator, as the admin layer does.
func (f *fixture) update(t *testing.T, r *store.Key) {
	t.Helper()
	if err := f.db.UpdateKey(f.ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := f.auth.Invalidate(f.ctx, r.ID); err != nil {
		t.Fatal(err)
	}
}

// authCode authenticates key and returns the error code, "" on success.
func (f *fixture) authCode(key string) string {
	_, err := f.auth.Authenticate(f.ctx, key)
	return code(err)
}

func TestRotationGrace(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r, old := f.create(t, CreateRequest{Name: "svc", Settings: Settings{Models: []string{"gpt-4o*"}}})
		if f.authCode(old) != "" {
			t.Fatal("new key refused")
		}
		fresh, err := Rotate(f.h, r, time.Hour, f.clk.t)
		if err != nil {
			t.Fatal(err)
		}
		f.update(t, r)
		p, err := f.auth.Authenticate(f.ctx, fresh)
		if err != nil || p.ID != r.ID || !p.AllowsModel("gpt-4o-mini") || p.AllowsModel("claude") {
			t.Fatalf("the rotated key lost its id or scopes: %v", err)
		}
		f.clk.t = f.clk.t.Add(time.Hour - time.Millisecond)
		if f.authCode(old) != "" || f.authCode(fresh) != "" {
			t.Fatal("both secrets must work until the grace ends")
		}
		f.clk.t = f.clk.t.Add(time.Millisecond)
		if f.authCode(old) != "invalid_api_key" || f.authCode(fresh) != "" {
			t.Fatal("after the grace only the new secret may work")
		}
		// A second rotation with grace 0s ends the previous secret at once.
		newer, _ := Rotate(f.h, r, 0, f.clk.t)
		f.update(t, r)
		if f.authCode(fresh) != "invalid_api_key" || f.authCode(newer) != "" {
			t.Fatal("grace 0s must end the old secret now")
		}
	})
}

func TestEphemeralKeysFollowTheirParent(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		parentRow, parentKey := f.create(t, CreateRequest{Name: "minter", TTL: "24h",
			Settings: Settings{Models: []string{"gpt-4o*", "claude-*"}, CanMint: true}})
		parent, err := f.auth.Authenticate(f.ctx, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		childRow, v, err := NewChildKey(f.h, parent, MintRequest{Models: []string{"gpt-4o-mini"}}, f.clk.t)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateKey(f.ctx, childRow); err != nil {
			t.Fatal(err)
		}
		child, err := f.auth.Authenticate(f.ctx, v.Key)
		if err != nil {
			t.Fatal(err)
		}
		if child.ChargeID() != parentRow.ID || !child.AllowsModel("gpt-4o-mini") || child.AllowsModel("gpt-4o") {
			t.Fatalf("child scopes or charge id wrong: %s", child.ChargeID())
		}
		if _, _, err := NewChildKey(f.h, child, MintRequest{}, f.clk.t); code(err) != "mint_not_allowed" {
			t.Fatalf("a child minted: %v", err)
		}

		// Narrowing the parent narrows the child at once.
		var s Settings
		json.Unmarshal(parentRow.Settings, &s)
		s.Models = []string{"claude-*"}
		parentRow.Settings, _ = json.Marshal(s)
		f.update(t, parentRow)
		if child, _ = f.auth.Authenticate(f.ctx, v.Key); child.AllowsModel("gpt-4o-mini") {
			t.Fatal("the child is wider than its narrowed parent")
		}

		// Disabling the parent stops the child; enabling brings it back.
		parentRow.Status = "disabled"
		f.update(t, parentRow)
		if c := f.authCode(v.Key); c != "invalid_api_key" {
			t.Fatalf("child of a disabled parent: %q", c)
		}
		parentRow.Status = "active"
		f.update(t, parentRow)
		if c := f.authCode(v.Key); c != "" {
			t.Fatalf("child of a re-enabled parent: %q", c)
		}

		// Revoking the parent revokes the child, in the store too.
		ids, err := db.RevokeKeys(f.ctx, store.KeySelector{ID: parentRow.ID}, "leak")
		if err != nil || len(ids) != 2 {
			t.Fatalf("revoked %v, %v; want the parent and the child", ids, err)
		}
		for _, id := range ids {
			f.auth.Invalidate(f.ctx, id)
		}
		if f.authCode(v.Key) != "revoked_api_key" || f.authCode(parentKey) != "revoked_api_key" {
			t.Fatal("revocation did not cascade")
		}
	})
}

func TestChildKeyNarrowing(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	parentExp := now.Add(time.Hour)
	parent := newPrincipal(&Principal{ID: "ParentKey001", Kind: KindClient, ExpiresAt: &parentExp,
		Settings: Settings{Models: []string{"gpt-4o*"}, Endpoints: []string{"chat", "models"}, CanMint: true,
			AllowedIPs: []string{"10.0.0.0/8"}, Budget: &Budget{LimitUSD: "5", Period: "month"}}})
	h := NewHasher(testSecret)
	for _, tc := range []struct {
		name string
		req  MintRequest
		code string
	}{
		{"defaults", MintRequest{}, ""},
		{"narrower models", MintRequest{Models: []string{"gpt-4o-mini", "gpt-4o-2024-*"}}, ""},
		{"wider model", MintRequest{Models: []string{"gpt-4*"}}, "model_not_allowed"},
		{"other model", MintRequest{Models: []string{"claude-sonnet"}}, "model_not_allowed"},
		{"endpoint outside", MintRequest{Endpoints: []string{"embeddings"}}, "endpoint_not_allowed"},
		{"budget within", MintRequest{MaxCostUSD: "5"}, ""},
		{"budget above", MintRequest{MaxCostUSD: "5.000000001"}, "invalid_value"},
		{"bad budget", MintRequest{MaxCostUSD: "-1"}, "invalid_value"},
		{"ttl too short", MintRequest{TTL: "9s"}, "invalid_value"},
		{"ttl too long", MintRequest{TTL: "2h1s"}, "invalid_value"},
		{"ttl past the parent", MintRequest{TTL: "61m"}, "invalid_value"},
		{"bind within", MintRequest{BindIP: "10.1.2.3"}, ""},
		{"bind outside", MintRequest{BindIP: "192.168.0.1"}, "ip_not_allowed"},
		{"bind wider than the parent", MintRequest{BindIP: "10.0.0.0/7"}, "ip_not_allowed"},
		{"negative max_requests", MintRequest{MaxRequests: -1}, "invalid_value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, v, err := NewChildKey(h, parent, tc.req, now)
			if code(err) != tc.code {
				t.Fatalf("got %v, want %q", err, tc.code)
			}
			if err != nil {
				return
			}
			if r.Kind != "ephemeral" || r.ParentID != parent.ID || r.ExpiresAt.After(parentExp) {
				t.Fatalf("child row %+v", r)
			}
			var s Settings
			json.Unmarshal(r.Settings, &s)
			if s.CanMint || len(s.AllowedIPs) != 1 {
				t.Fatalf("child settings %+v", s)
			}
			if v.Key == "" || Hint(v.Key) != r.Hint {
				t.Fatal("the view does not hold the key")
			}
		})
	}
	// The default ttl is cut short by a parent expiring sooner.
	soon := now.Add(5 * time.Minute)
	short := newPrincipal(&Principal{ID: "ParentKey002", Kind: KindClient, ExpiresAt: &soon,
		Settings: Settings{Models: []string{"*"}, Endpoints: AllEndpoints, CanMint: true}})
	if _, v, err := NewChildKey(h, short, MintRequest{}, now); err != nil || !v.ExpiresAt.Equal(soon) {
		t.Fatalf("default ttl under a parent expiring in 5m: %v %v", v.ExpiresAt, err)
	}
	if parent.Settings.AllowedIPs[0] != "10.0.0.0/8" {
		t.Fatal("minting changed the parent's settings")
	}
}

// TestMaxRequestsAcrossReplicas gives a 3-use key to two authenticators (two replicas)
// sharing one store and fires 20 requests at them at once: exactly 3 get through.
func TestMaxRequestsAcrossReplicas(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		_, parentKey := f.create(t, CreateRequest{Name: "minter", Settings: Settings{CanMint: true}})
		parent, _ := f.auth.Authenticate(f.ctx, parentKey)
		r, v, err := NewChildKey(f.h, parent, MintRequest{MaxRequests: 3}, f.clk.t)
		if err != nil {
			t.Fatal(err)
		}
		db.CreateKey(f.ctx, r)
		replicas := []*Authenticator{f.auth, NewAuthenticator(db, f.h, f.clk.now)}
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				_, err := replicas[i%2].Admit(f.ctx, v.Key, netip.MustParseAddr("127.0.0.1"))
				switch code(err) {
				case "":
					ok.Add(1)
				case "expired_api_key":
				default:
					t.Errorf("unexpected error %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 3 {
			t.Fatalf("%d requests got through a 3-use key", ok.Load())
		}
	})
}

// countingStore counts every store call the authenticator makes.
type countingStore struct {
	Store
	calls atomic.Int64
}

func (c *countingStore) GetKey(ctx context.Context, id string) (*store.Key, error) {
	c.calls.Add(1)
	return c.Store.GetKey(ctx, id)
}

func (c *countingStore) ListKeys(ctx context.Context, f store.KeyFilter) ([]*store.Key, error) {
	c.calls.Add(1)
	return c.Store.ListKeys(ctx, f)
}

func (c *countingStore) UseKey(ctx context.Context, id string) (bool, error) {
	c.calls.Add(1)
	return c.Store.UseKey(ctx, id)
}

// TestHotPathMakesNoStoreCalls authenticates loaded keys (a client key and an
// ephemeral child) a thousand times and counts store calls: none.
func TestHotPathMakesNoStoreCalls(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	f := newFixture(t, db)
	_, key := f.create(t, CreateRequest{Name: "hot", Settings: Settings{AllowedIPs: []string{"127.0.0.0/8"},
		AllowedHours: "00:00-24:00 UTC", CanMint: true}})
	parent, _ := f.auth.Authenticate(f.ctx, key)
	child, v, _ := NewChildKey(f.h, parent, MintRequest{}, f.clk.t)
	db.CreateKey(f.ctx, child)
	cs := &countingStore{Store: db}
	auth := NewAuthenticator(cs, f.h, f.clk.now)
	if err := auth.Load(f.ctx); err != nil {
		t.Fatal(err)
	}
	before := cs.calls.Load()
	ip := netip.MustParseAddr("127.0.0.1")
	for range 1000 {
		for _, k := range []string{key, v.Key} {
			p, err := auth.Admit(f.ctx, k, ip)
			if err != nil || !p.AllowsEndpoint(schema.EndpointChat) || !p.AllowsModel("gpt-4o") {
				t.Fatalf("admit: %v", err)
			}
		}
	}
	if n := cs.calls.Load() - before; n != 0 {
		t.Fatalf("%d store calls for 2000 authenticated requests", n)
	}
	// Unknown ids cost one lookup each, then are remembered.
	unknown, _, _ := Generate(KindClient)
	for range 100 {
		auth.Authenticate(f.ctx, unknown)
	}
	if n := cs.calls.Load() - before; n != 1 {
		t.Fatalf("%d store calls for 100 attempts with one unknown key", n)
	}
}

func TestRefreshCatchesMissedChanges(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r, key := f.create(t, CreateRequest{Name: "r"})
		if err := f.auth.Load(f.ctx); err != nil {
			t.Fatal(err)
		}
		// Another replica revokes the key and its message is lost.
		if _, err := db.RevokeKeys(f.ctx, store.KeySelector{ID: r.ID}, "x"); err != nil {
			t.Fatal(err)
		}
		if f.authCode(key) != "" {
			t.Fatal("test premise: the cache should still hold the active key")
		}
		if err := f.auth.Refresh(f.ctx); err != nil {
			t.Fatal(err)
		}
		if c := f.authCode(key); c != "revoked_api_key" {
			t.Fatalf("after refresh: %q", c)
		}
		// A deleted key is found by refresh too (its tombstone).
		r2, key2 := f.create(t, CreateRequest{Name: "d"})
		f.auth.Refresh(f.ctx)
		if _, err := db.RemoveKey(f.ctx, r2.ID); err != nil {
			t.Fatal(err)
		}
		f.auth.Refresh(f.ctx)
		if c := f.authCode(key2); c != "invalid_api_key" {
			t.Fatalf("deleted key after refresh: %q", c)
		}
	})
}
