package store_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// seedKeys stores keys described as id → kind, owner, project, created_by, parent.
func seedKeys(t *testing.T, db *store.DB, rows [][6]string) {
	t.Helper()
	for _, r := range rows {
		k := &store.Key{ID: r[0], Kind: r[1], Owner: r[2], Project: r[3], CreatedBy: r[4], ParentID: r[5],
			Status: "active", Hash: []byte(r[0])}
		if err := db.CreateKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

func TestRevokeKeys(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedKeys(t, db, [][6]string{
			{"alice1", "client", "alice", "p1", "adm1", ""},
			{"alice2", "client", "alice", "p2", "adm2", ""},
			{"bob1", "client", "bob", "p1", "adm1", ""},
			{"child1", "ephemeral", "alice", "p1", "alice1", "alice1"},
			{"child2", "ephemeral", "bob", "p1", "bob1", "bob1"},
			{"token1", "admin", "alice", "", "adm1", ""},
		})
		if _, err := db.RevokeKeys(ctx, store.KeySelector{}, "all"); err == nil {
			t.Fatal("an empty selector revoked keys")
		}
		for _, tc := range []struct {
			sel  store.KeySelector
			want []string
		}{
			{store.KeySelector{ID: "alice1"}, []string{"alice1", "child1"}},
			{store.KeySelector{ID: "alice1"}, nil}, // already revoked: nothing changes
			{store.KeySelector{Owner: "alice"}, []string{"alice2"}},
			{store.KeySelector{CreatedBy: "adm1"}, []string{"bob1", "child2"}},
		} {
			ids, err := db.RevokeKeys(ctx, tc.sel, "incident")
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(ids); !slices.Equal(got, tc.want) {
				t.Errorf("RevokeKeys(%+v) = %v, want %v", tc.sel, got, tc.want)
			}
		}
		k, _ := db.GetKey(ctx, "child1")
		if k.Status != "revoked" || k.RevokedAt == nil || k.RevokeReason != "incident" {
			t.Errorf("child1 = %+v", k)
		}
		if tok, _ := db.GetKey(ctx, "token1"); tok.Status != "active" {
			t.Error("a bulk revocation by creator revoked an admin token")
		}
	})
}

func TestRemoveKeyLeavesATombstone(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedKeys(t, db, [][6]string{
			{"parent", "client", "", "", "", ""},
			{"kid", "ephemeral", "", "", "parent", "parent"},
		})
		ids, err := db.RemoveKey(ctx, "parent")
		if err != nil || !slices.Equal(ids, []string{"parent", "kid"}) {
			t.Fatalf("RemoveKey = %v, %v", ids, err)
		}
		if _, err := db.RemoveKey(ctx, "parent"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second RemoveKey: %v", err)
		}
		p, _ := db.GetKey(ctx, "parent")
		kid, _ := db.GetKey(ctx, "kid")
		if p.Status != "deleted" || kid.Status != "revoked" {
			t.Fatalf("statuses %s %s", p.Status, kid.Status)
		}
		live, _ := db.ListKeys(ctx, store.KeyFilter{SkipDeleted: true})
		if got := ids2(live); !slices.Equal(got, []string{"kid"}) {
			t.Fatalf("SkipDeleted lists %v", got)
		}
	})
}

func ids2(keys []*store.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return out
}

func TestUseKey(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.CreateKey(ctx, &store.Key{ID: "twice", Kind: "ephemeral", Status: "active", Hash: []byte("h"), MaxUses: 2})
		db.CreateKey(ctx, &store.Key{ID: "free", Kind: "client", Status: "active", Hash: []byte("h")})
		var got []bool
		for range 3 {
			ok, err := db.UseKey(ctx, "twice")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ok)
		}
		if !slices.Equal(got, []bool{true, true, false}) {
			t.Fatalf("uses of a 2-use key: %v", got)
		}
		if k, _ := db.GetKey(ctx, "twice"); k.Uses != 2 || k.MaxUses != 2 {
			t.Fatalf("uses %d of %d", k.Uses, k.MaxUses)
		}
		if ok, _ := db.UseKey(ctx, "free"); !ok {
			t.Fatal("a key without a cap was refused")
		}
		db.RevokeKeys(ctx, store.KeySelector{ID: "free"}, "")
		if ok, _ := db.UseKey(ctx, "free"); ok {
			t.Fatal("a revoked key was used")
		}
	})
}

func TestUpdateKeyIf(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) { testUpdateKeyIf(t, engine) })
	}
}

func testUpdateKeyIf(t *testing.T, engine string) {
	clk := newClock()
	db := storetest.Open(t, engine, store.WithClock(clk.Now))
	{
		ctx := context.Background()
		k := &store.Key{ID: "cas", Kind: "client", Status: "active", Hash: []byte("h")}
		db.CreateKey(ctx, k)
		read, _ := db.GetKey(ctx, "cas")
		clk.Advance(time.Second)
		// Someone revokes the key after it was read.
		db.RevokeKeys(ctx, store.KeySelector{ID: "cas"}, "")
		read.Name = "renamed"
		if err := db.UpdateKeyIf(ctx, read, read.UpdatedAt); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale write: %v", err)
		}
		fresh, _ := db.GetKey(ctx, "cas")
		if fresh.Status != "revoked" {
			t.Fatal("a stale write undid a revocation")
		}
		fresh.Name = "renamed"
		if err := db.UpdateKeyIf(ctx, fresh, fresh.UpdatedAt); err != nil {
			t.Fatalf("fresh write: %v", err)
		}
		gone := &store.Key{ID: "gone", Hash: []byte("h")}
		if err := db.UpdateKeyIf(ctx, gone, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing key: %v", err)
		}
	}
}

func TestListKeysLifecycleFilters(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedKeys(t, db, [][6]string{
			{"c1", "client", "", "", "adm1", ""},
			{"e1", "ephemeral", "", "", "c1", "c1"},
			{"t1", "admin", "", "", "adm1", ""},
		})
		mark := time.Now()
		time.Sleep(2 * time.Millisecond)
		db.RevokeKeys(ctx, store.KeySelector{ID: "e1"}, "")
		for _, tc := range []struct {
			f    store.KeyFilter
			want []string
		}{
			{store.KeyFilter{Kinds: []string{"client", "ephemeral"}}, []string{"c1", "e1"}},
			{store.KeyFilter{CreatedBy: "adm1"}, []string{"c1", "t1"}},
			{store.KeyFilter{ParentID: "c1"}, []string{"e1"}},
			{store.KeyFilter{ChangedSince: mark}, []string{"e1"}},
		} {
			got, err := db.ListKeys(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids2(got), tc.want) {
				t.Errorf("ListKeys(%+v) = %v, want %v", tc.f, ids2(got), tc.want)
			}
		}
	})
}
