package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// ptr returns a pointer to t.
func ptr(t time.Time) *time.Time { return &t }

// fullKey returns a key with every field set, times in a non-UTC zone with nanoseconds.
func fullKey(id string) *store.Key {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	return &store.Key{
		ID:         id,
		Kind:       "client",
		Hash:       []byte{0x00, 0x01, 0xfe, 0xff, 0x00},
		PrevHash:   []byte{0xaa, 0x00, 0xbb},
		GraceUntil: ptr(time.Date(2030, 1, 2, 3, 4, 5, 6, zone)),
		Hint:       "tgk_" + id + "_…WxYz",
		Name:       "billing service ✓",
		Project:    "proj-1",
		Owner:      "alice@example.com",
		ParentID:   "Parent000001",
		Status:     "active",
		Settings:   []byte(`{"scopes":["chat"],"budget":{"nano_usd":5000000000},"z":1,"a":2}`),
		CreatedBy:  "admin:root",
		CreatedAt:  time.Date(2029, 12, 31, 23, 59, 59, 999999999, zone),
		UpdatedAt:  time.Date(2030, 1, 1, 0, 0, 0, 1, zone),
		ExpiresAt:  ptr(time.Date(2031, 6, 7, 8, 9, 10, 11000, zone)),
		RevokedAt:  ptr(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
}

// minimalKey returns a key with only the required fields set.
func minimalKey(id string) *store.Key {
	return &store.Key{ID: id, Kind: "admin", Hash: []byte("h"), Status: "active"}
}

// asStored returns what GetKey should return for k once stored: UTC times, nil for an
// empty PrevHash, "{}" for empty Settings.
func asStored(k *store.Key) *store.Key {
	c := *k
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		return ptr(t.UTC())
	}
	c.CreatedAt, c.UpdatedAt = k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	c.GraceUntil, c.ExpiresAt, c.RevokedAt = utc(k.GraceUntil), utc(k.ExpiresAt), utc(k.RevokedAt)
	if len(c.PrevHash) == 0 {
		c.PrevHash = nil
	}
	if len(c.Settings) == 0 {
		c.Settings = []byte("{}")
	}
	return &c
}

// checkKey fails the test unless got equals want field for field, with UTC times.
func checkKey(t *testing.T, got, want *store.Key) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("key mismatch\n got: %+v\nwant: %+v", *got, *want)
	}
	for _, tm := range []*time.Time{&got.CreatedAt, &got.UpdatedAt, got.GraceUntil, got.ExpiresAt, got.RevokedAt} {
		if tm != nil && tm.Location() != time.UTC {
			t.Errorf("time %v is in %v, want UTC", tm, tm.Location())
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	clk := newClock()
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := storetest.Open(t, engine, store.WithClock(clk.Now))
			ctx := context.Background()
			defaulted := minimalKey("Minimal00001")
			tests := []struct {
				name string
				key  *store.Key
				want *store.Key
			}{
				{"every field set", fullKey("Full00000001"), asStored(fullKey("Full00000001"))},
				{"empty byte slices", func() *store.Key {
					k := minimalKey("Empty0000001")
					k.PrevHash, k.Settings = []byte{}, []byte{}
					k.CreatedAt = time.Unix(0, 1)
					k.UpdatedAt = time.Unix(0, 2)
					return k
				}(), func() *store.Key {
					k := minimalKey("Empty0000001")
					k.Settings = []byte("{}")
					k.CreatedAt, k.UpdatedAt = time.Unix(0, 1).UTC(), time.Unix(0, 2).UTC()
					return k
				}()},
				{"defaults from clock", defaulted, func() *store.Key {
					k := minimalKey("Minimal00001")
					k.Settings = []byte("{}")
					k.CreatedAt, k.UpdatedAt = clk.Now(), clk.Now()
					return k
				}()},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if err := db.CreateKey(ctx, tt.key); err != nil {
						t.Fatalf("CreateKey: %v", err)
					}
					got, err := db.GetKey(ctx, tt.key.ID)
					if err != nil {
						t.Fatalf("GetKey: %v", err)
					}
					checkKey(t, got, tt.want)
				})
			}
			if !defaulted.CreatedAt.Equal(clk.Now()) || !defaulted.UpdatedAt.Equal(clk.Now()) {
				t.Errorf("CreateKey left CreatedAt=%v UpdatedAt=%v in the caller's key, want %v",
					defaulted.CreatedAt, defaulted.UpdatedAt, clk.Now())
			}
		})
	}
}

func TestUpdateKey(t *testing.T) {
	clk := newClock()
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := storetest.Open(t, engine, store.WithClock(clk.Now))
			ctx := context.Background()
			orig := fullKey("Update000001")
			if err := db.CreateKey(ctx, orig); err != nil {
				t.Fatal(err)
			}
			k := fullKey("Update000001")
			k.Hash, k.PrevHash, k.GraceUntil = []byte("new hash"), nil, nil
			k.Hint, k.Name, k.Project, k.Owner = "tgk_…new", "renamed", "proj-2", "bob"
			k.Status, k.Settings = "revoked", []byte(`{"scopes":[]}`)
			k.ExpiresAt, k.RevokedAt = nil, ptr(time.Date(2032, 1, 1, 0, 0, 0, 5, time.UTC))
			// The immutable columns keep their stored values.
			k.Kind, k.ParentID, k.CreatedBy, k.CreatedAt = "admin", "Other0000001", "mallory", time.Unix(0, 0)

			now := clk.Advance(time.Hour + time.Nanosecond)
			if err := db.UpdateKey(ctx, k); err != nil {
				t.Fatalf("UpdateKey: %v", err)
			}
			if !k.UpdatedAt.Equal(now) {
				t.Errorf("UpdateKey set UpdatedAt = %v, want %v", k.UpdatedAt, now)
			}
			want := asStored(k)
			want.Kind, want.ParentID, want.CreatedBy = orig.Kind, orig.ParentID, orig.CreatedBy
			want.CreatedAt = orig.CreatedAt.UTC()
			got, err := db.GetKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, got, want)
		})
	}
}

func TestKeyErrors(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.CreateKey(ctx, minimalKey("Exists000001")); err != nil {
			t.Fatal(err)
		}
		outOfRange := minimalKey("Range0000001")
		outOfRange.ExpiresAt = ptr(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
		tests := []struct {
			name string
			do   func() error
			want error // nil means a validation error: neither ErrConflict nor ErrNotFound.
		}{
			{"create duplicate", func() error { return db.CreateKey(ctx, minimalKey("Exists000001")) }, store.ErrConflict},
			{"get missing", func() error { _, err := db.GetKey(ctx, "Missing00001"); return err }, store.ErrNotFound},
			{"update missing", func() error { return db.UpdateKey(ctx, minimalKey("Missing00001")) }, store.ErrNotFound},
			{"delete missing", func() error { return db.DeleteKey(ctx, "Missing00001") }, store.ErrNotFound},
			{"create without id", func() error { return db.CreateKey(ctx, minimalKey("")) }, nil},
			{"create without hash", func() error { k := minimalKey("NoHash000001"); k.Hash = nil; return db.CreateKey(ctx, k) }, nil},
			{"create out of range time", func() error { return db.CreateKey(ctx, outOfRange) }, nil},
		}
		for _, tt := range tests {
			err := tt.do()
			switch {
			case tt.want == nil && (err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)):
				t.Errorf("%s: error = %v, want a validation error", tt.name, err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("%s: error = %v, want %v", tt.name, err, tt.want)
			}
		}
	})
}

func TestDeleteKey(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, id := range []string{"Delete000001", "Keep00000001"} {
			if err := db.CreateKey(ctx, minimalKey(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.DeleteKey(ctx, "Delete000001"); err != nil {
			t.Fatalf("DeleteKey: %v", err)
		}
		if _, err := db.GetKey(ctx, "Delete000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetKey after delete: %v, want ErrNotFound", err)
		}
		if _, err := db.GetKey(ctx, "Keep00000001"); err != nil {
			t.Errorf("GetKey of the other key: %v", err)
		}
	})
}

func TestListKeys(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Ids mix cases so that a locale collation would order them differently from bytes.
		seed := []struct{ id, kind, project, owner, status string }{
			{"b", "client", "p1", "alice", "active"},
			{"A", "client", "p1", "bob", "disabled"},
			{"a", "client", "p2", "alice", "active"},
			{"B", "ephemeral", "p1", "alice", "active"},
			{"Z", "admin", "", "root", "active"},
			{"_", "client", "p2", "bob", "revoked"},
		}
		for _, s := range seed {
			k := &store.Key{ID: s.id, Kind: s.kind, Project: s.project, Owner: s.owner,
				Status: s.status, Hash: []byte(s.id)}
			if err := db.CreateKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name   string
			filter store.KeyFilter
			want   []string
		}{
			{"all in byte order", store.KeyFilter{}, []string{"A", "B", "Z", "_", "a", "b"}},
			{"kind", store.KeyFilter{Kind: "client"}, []string{"A", "_", "a", "b"}},
			{"kind and project", store.KeyFilter{Kind: "client", Project: "p1"}, []string{"A", "b"}},
			{"owner", store.KeyFilter{Owner: "alice"}, []string{"B", "a", "b"}},
			{"status", store.KeyFilter{Status: "active"}, []string{"B", "Z", "a", "b"}},
			{"every filter", store.KeyFilter{Kind: "client", Project: "p2", Owner: "bob", Status: "revoked"}, []string{"_"}},
			{"after", store.KeyFilter{After: "Z"}, []string{"_", "a", "b"}},
			{"after with filter", store.KeyFilter{Owner: "alice", After: "B"}, []string{"a", "b"}},
			{"limit", store.KeyFilter{Limit: 2}, []string{"A", "B"}},
			{"after and limit", store.KeyFilter{After: "B", Limit: 3}, []string{"Z", "_", "a"}},
			{"nothing matches", store.KeyFilter{Project: "none"}, nil},
			{"after the last", store.KeyFilter{After: "b"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				keys, err := db.ListKeys(ctx, tt.filter)
				if err != nil {
					t.Fatalf("ListKeys: %v", err)
				}
				if got := ids(keys); !slices.Equal(got, tt.want) {
					t.Errorf("ListKeys(%+v) = %v, want %v", tt.filter, got, tt.want)
				}
			})
		}
		t.Run("cursor paging", func(t *testing.T) {
			var got []string
			f := store.KeyFilter{Limit: 4}
			for page := 0; ; page++ {
				keys, err := db.ListKeys(ctx, f)
				if err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				got = append(got, ids(keys)...)
				if len(keys) < f.Limit || page > 10 {
					break
				}
				f.After = keys[len(keys)-1].ID
			}
			if want := []string{"A", "B", "Z", "_", "a", "b"}; !slices.Equal(got, want) {
				t.Errorf("paged ids = %v, want %v", got, want)
			}
		})
	})
}

// ids returns the ids of keys in order.
func ids(keys []*store.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return out
}
