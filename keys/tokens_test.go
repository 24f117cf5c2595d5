package keys

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func TestAdminTokens(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const bootstrap = "a bootstrap token from the environment"
		admins := NewAdminAuthenticator(f.auth, bootstrap)
		tokens := map[string]string{}
		for _, role := range []string{RoleAdmin, RoleViewer} {
			r, tok, err := NewAdminToken(f.h, TokenRequest{Name: role + "-token", Role: role}, BootstrapID, f.clk.t)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.CreateKey(f.ctx, r); err != nil {
				t.Fatal(err)
			}
			tokens[role] = tok
		}
		if _, _, err := NewAdminToken(f.h, TokenRequest{Name: "x", Role: "root"}, "", f.clk.t); code(err) != "invalid_value" {
			t.Fatalf("role root: %v", err)
		}
		_, clientKey := f.create(t, CreateRequest{Name: "client"})
		for _, tc := range []struct {
			token, role, code string
			bad               bool
		}{
			{bootstrap, RoleAdmin, "", false},
			{tokens[RoleAdmin], RoleAdmin, "", false},
			{tokens[RoleViewer], RoleViewer, "", false},
			{clientKey, "", "invalid_api_key", true},
			{"wrong", "", "invalid_api_key", true},
			{"", "", "invalid_api_key", false},
		} {
			p, err := admins.Authenticate(f.ctx, tc.token)
			if code(err) != tc.code || err == nil && p.Role != tc.role {
				t.Errorf("token %.8q: %v (role %v), want %q %q", tc.token, err, p, tc.code, tc.role)
			}
			if errors.Is(err, ErrBadCredential) != tc.bad {
				t.Errorf("token %.8q: bad credential = %v", tc.token, !tc.bad)
			}
		}
		// An admin token cannot pass as a client key: the kinds differ.
		if p, err := f.auth.Authenticate(f.ctx, tokens[RoleAdmin]); err == nil && p.Kind != KindAdmin {
			t.Fatalf("admin token authenticated as %s", p.Kind)
		}
	})
}

func TestThrottle(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleOptions{Burst: 3, Every: 10 * time.Second, MaxAddresses: 4, Now: clk.now})
	bad, other := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("203.0.113.8")
	for range 3 {
		if _, ok := th.Allow(bad); !ok {
			t.Fatal("refused within the burst")
		}
		th.Fail(bad)
	}
	wait, ok := th.Allow(bad)
	if ok || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("after the burst: ok=%v wait=%v", ok, wait)
	}
	if _, ok := th.Allow(other); !ok {
		t.Fatal("another address was locked out")
	}
	clk.t = clk.t.Add(wait)
	if _, ok := th.Allow(bad); !ok {
		t.Fatal("still refused after the announced wait")
	}
	// IPv6 addresses of one /64 share a bucket; another /64 does not.
	v6 := netip.MustParseAddr("2001:db8:0:1::1")
	for range 3 {
		th.Fail(v6)
	}
	if _, ok := th.Allow(netip.MustParseAddr("2001:db8:0:1::ffff")); ok {
		t.Fatal("the same /64 escaped the throttle")
	}
	if _, ok := th.Allow(netip.MustParseAddr("2001:db8:0:2::1")); !ok {
		t.Fatal("another /64 was locked out")
	}
	// Memory stays bounded however many addresses fail.
	for i := range 100 {
		th.Fail(netip.AddrFrom4([4]byte{10, 0, byte(i), 1}))
	}
	if n := th.Len(); n > 4 {
		t.Fatalf("%d addresses tracked, cap 4", n)
	}
}
