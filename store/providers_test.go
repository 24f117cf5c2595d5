package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func TestProvidersAndKeys(t *testing.T) {
	clk := newClock()
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db := storetest.Open(t, engine, store.WithClock(clk.Now))
			ctx := context.Background()
			tx := func(fn func(tx *store.Tx) error) error { return db.WriteTx(ctx, fn) }
			p := &store.Provider{Name: "acme", Type: "openai", BaseURL: "https://api.acme.test/v1", APIVersion: "v",
				Region: "eu", Headers: map[string]string{"X-Team": "ml"}, CreatedBy: "admin1"}
			if err := tx(func(tx *store.Tx) error { return tx.CreateProvider(ctx, p) }); err != nil {
				t.Fatal(err)
			}
			if err := tx(func(tx *store.Tx) error { return tx.CreateProvider(ctx, p) }); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("duplicate: %v", err)
			}
			got, err := db.GetProvider(ctx, "acme")
			if err != nil || !reflect.DeepEqual(got, p) {
				t.Fatalf("GetProvider = %+v, %v; want %+v", got, err, p)
			}
			drain := clk.Now().Add(time.Hour)
			k1 := &store.ProviderKey{ID: "pk_1", Provider: "acme", Label: "main", Secret: []byte{1, 0, 2}, Fingerprint: "f1",
				Hint: "sk-…abcd", Weight: 3, Status: "draining", DrainUntil: &drain, ReplacedBy: "pk_2"}
			clk.Advance(time.Second)
			k2 := &store.ProviderKey{ID: "pk_0", Provider: "acme", Secret: []byte{9}, Fingerprint: "f2", Hint: "…", Weight: 1, Status: "active"}
			err = tx(func(tx *store.Tx) error {
				if err := tx.CreateProviderKey(ctx, k1); err != nil {
					return err
				}
				clk.Advance(time.Second)
				return tx.CreateProviderKey(ctx, k2)
			})
			if err != nil {
				t.Fatal(err)
			}
			keys, err := db.ListProviderKeys(ctx, "acme")
			if err != nil || len(keys) != 2 || !reflect.DeepEqual(keys[0], k1) || keys[1].ID != "pk_0" {
				t.Fatalf("ListProviderKeys (oldest first) = %+v, %v", keys, err)
			}
			k1.Status, k1.DrainUntil, k1.Weight = "disabled", nil, 5
			if err := tx(func(tx *store.Tx) error { return tx.UpdateProviderKey(ctx, k1) }); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.GetProviderKey(ctx, "pk_1"); got.Status != "disabled" || got.DrainUntil != nil || got.Weight != 5 ||
				string(got.Secret) != "\x01\x00\x02" {
				t.Fatalf("after update: %+v", got)
			}
			// A failure inside the transaction rolls back every write in it.
			boom := errors.New("boom")
			err = tx(func(tx *store.Tx) error {
				if err := tx.DeleteProviderKey(ctx, "pk_0"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			if _, err := db.GetProviderKey(ctx, "pk_0"); err != nil {
				t.Fatalf("rolled-back delete took effect: %v", err)
			}
			if err := tx(func(tx *store.Tx) error { return tx.DeleteProvider(ctx, "acme") }); err != nil {
				t.Fatal(err)
			}
			if keys, _ := db.ListProviderKeys(ctx, ""); len(keys) != 0 {
				t.Fatalf("keys outlived their provider: %+v", keys)
			}
			for _, err := range []error{
				tx(func(tx *store.Tx) error { return tx.DeleteProvider(ctx, "acme") }),
				tx(func(tx *store.Tx) error { return tx.UpdateProvider(ctx, p) }),
				tx(func(tx *store.Tx) error { return tx.DeleteProviderKey(ctx, "pk_1") }),
			} {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("on a missing row: %v", err)
				}
			}
		})
	}
}

func TestSealedValuesAndKeyring(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, name := range []string{"hmac_secret", "vault_canary", "not_sealed"} {
			if err := db.SetMeta(ctx, name, []byte(name)); err != nil {
				t.Fatal(err)
			}
		}
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateProvider(ctx, &store.Provider{Name: "p", Type: "openai"}); err != nil {
				return err
			}
			return tx.CreateProviderKey(ctx, &store.ProviderKey{ID: "pk_1", Provider: "p", Secret: []byte("sealed"), Status: "active"})
		})
		if err != nil {
			t.Fatal(err)
		}
		values, err := db.SealedValues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var refs []store.SealedRef
		for _, v := range values {
			refs = append(refs, v.SealedRef)
		}
		want := []store.SealedRef{{"meta", "hmac_secret", "value"}, {"meta", "vault_canary", "value"}, {"provider_keys", "pk_1", "secret"}}
		if !reflect.DeepEqual(refs, want) {
			t.Fatalf("SealedValues = %v, want %v", refs, want)
		}
		ref := store.SealedRef{Table: "provider_keys", Row: "pk_1", Column: "secret"}
		if ok, err := db.ReplaceSealed(ctx, ref, []byte("stale"), []byte("new")); ok || err != nil {
			t.Fatalf("replace over a changed value: %v %v", ok, err)
		}
		if ok, err := db.ReplaceSealed(ctx, ref, []byte("sealed"), []byte("new")); !ok || err != nil {
			t.Fatalf("replace: %v %v", ok, err)
		}
		if _, err := db.ReplaceSealed(ctx, store.SealedRef{Table: "keys", Row: "x", Column: "hash"}, nil, nil); err == nil {
			t.Fatal("replaced a column that holds no sealed values")
		}
		r := store.KEKRow{ID: "kek1:aa", Version: 1, Wrapped: []byte{1}, RootID: "local:r", CreatedAt: time.Unix(5, 0).UTC()}
		if err := db.InsertKEK(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := db.InsertKEK(ctx, store.KEKRow{ID: "kek1:bb", Version: 1, Wrapped: []byte{2}, CreatedAt: time.Unix(5, 0)}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second version 1: %v", err)
		}
		if ok, _ := db.RewrapKEK(ctx, "kek1:aa", []byte{1}, []byte{3}, "kms:x"); !ok {
			t.Fatal("rewrap failed")
		}
		rows, err := db.ListKEKs(ctx)
		if err != nil || len(rows) != 1 || rows[0].RootID != "kms:x" || rows[0].Wrapped[0] != 3 || !rows[0].CreatedAt.Equal(r.CreatedAt) {
			t.Fatalf("ListKEKs = %+v, %v", rows, err)
		}
	})
}
