package keys

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func code(err error) string {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestAuthenticate(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
		h := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
		auth := NewAuthenticator(db, h, clk.now)
		m := NewManager(db, auth)

		v, err := m.Create(ctx, CreateRequest{Name: "app", Project: "p1", TTL: "1h",
			Settings: Settings{Models: []string{"gpt-4o*"}, Endpoints: []string{"chat"}}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		p, err := auth.Authenticate(ctx, v.Key)
		if err != nil || p.ID != v.ID || p.Project != "p1" {
			t.Fatalf("valid key: %v", err)
		}
		if !p.AllowsModel("gpt-4o-mini") || p.AllowsModel("claude-sonnet") {
			t.Fatal("model scope not applied")
		}

		// A key with the same id and a valid checksum but another secret is refused.
		forged := v.Key[:17] + "00000000000000000000000000000000"
		forged += Checksum(forged)
		if _, err := auth.Authenticate(ctx, forged); code(err) != "invalid_api_key" {
			t.Fatalf("forged secret: %v", err)
		}
		// An id that does not exist is refused, and remembered as unknown.
		other, _, _ := Generate(KindClient)
		if _, err := auth.Authenticate(ctx, other); code(err) != "invalid_api_key" {
			t.Fatalf("unknown id: %v", err)
		}

		// A key created on another replica (straight into the store) is found.
		fresh, id, _ := Generate(KindClient)
		now := clk.t
		if err := db.CreateKey(ctx, &store.Key{ID: id, Kind: "client", Hash: h.Sum(fresh), Status: "active",
			Name: "remote", Settings: []byte(`{"models":["*"],"endpoints":["chat"]}`), CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Authenticate(ctx, fresh); err != nil {
			t.Fatalf("key from another replica: %v", err)
		}

		// Expiry.
		clk.t = clk.t.Add(time.Hour)
		if _, err := auth.Authenticate(ctx, v.Key); code(err) != "expired_api_key" {
			t.Fatalf("expired: %v", err)
		}

		// Revoked and disabled keys.
		for status, want := range map[string]string{"revoked": "revoked_api_key", "disabled": "invalid_api_key"} {
			r, _ := db.GetKey(ctx, id)
			r.Status = status
			if err := db.UpdateKey(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := auth.Put(r); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.Authenticate(ctx, fresh); code(err) != want {
				t.Fatalf("%s: got %v", status, err)
			}
		}
	})
}

func TestAdminKindCannotPassAsClient(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
		auth := NewAuthenticator(db, h, nil)
		key, id, _ := Generate(KindClient)
		// The same id presented with an ephemeral prefix must not match the client row.
		now := time.Now()
		db.CreateKey(ctx, &store.Key{ID: id, Kind: "client", Hash: h.Sum(key), Status: "active", Name: "k",
			Settings: []byte(`{}`), CreatedAt: now, UpdatedAt: now})
		as := "tge_" + key[4:KeyLen-crcLen]
		as += Checksum(as)
		if _, err := auth.Authenticate(ctx, as); code(err) != "invalid_api_key" {
			t.Fatalf("kind confusion: %v", err)
		}
	})
}

func BenchmarkAuthenticate(b *testing.B) {
	db := storetest.Open(b, "sqlite")
	ctx := context.Background()
	auth := NewAuthenticator(db, NewHasher([]byte("0123456789abcdef0123456789abcdef")), nil)
	v, err := NewManager(db, auth).Create(ctx, CreateRequest{Name: "bench"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.Authenticate(ctx, v.Key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdmit is the whole per-request check of the server: key, status, expiry,
// parent, IP and time-of-day rules.
func BenchmarkAdmit(b *testing.B) {
	db := storetest.Open(b, "sqlite")
	ctx := context.Background()
	auth := NewAuthenticator(db, NewHasher([]byte("0123456789abcdef0123456789abcdef")), nil)
	v, err := NewManager(db, auth).Create(ctx, CreateRequest{Name: "bench", Settings: Settings{
		AllowedIPs: []string{"10.0.0.0/8", "127.0.0.0/8"}, AllowedHours: "00:00-24:00 Europe/Paris"}}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	ip := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.Admit(ctx, v.Key, ip); err != nil {
			b.Fatal(err)
		}
	}
}
