package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// TestModels runs the model lifecycle on both engines: create, conflict, get, list in
// name order, update, delete, and not-found answers.
func TestModels(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		created := time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("CET", 3600))
		specs := map[string]string{
			"gpt-4o":            `{"targets":[{"provider":"openai","model":"gpt-4o"}]}`,
			"Claude/Sonnet ✓":   `{"strategy":"priority","targets":[{"provider":"claude","model":"x"}]}`,
			"a-model-with-dot.": `{"targets":[]}`,
		}
		for name, spec := range specs {
			m := &store.Model{Name: name, Spec: []byte(spec), CreatedBy: "admin-1", CreatedAt: created}
			if err := db.WriteTx(ctx, func(tx *store.Tx) error { return tx.CreateModel(ctx, m) }); err != nil {
				t.Fatal(err)
			}
			if !m.UpdatedAt.Equal(created) {
				t.Fatalf("UpdatedAt %v, want CreatedAt", m.UpdatedAt)
			}
		}
		write := func(fn func(tx *store.Tx) error) error { return db.WriteTx(ctx, fn) }
		err := write(func(tx *store.Tx) error { return tx.CreateModel(ctx, &store.Model{Name: "gpt-4o", Spec: []byte(`{}`)}) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate: %v, want ErrConflict", err)
		}
		got, err := db.GetModel(ctx, "Claude/Sonnet ✓")
		if err != nil || string(got.Spec) != specs["Claude/Sonnet ✓"] || got.CreatedBy != "admin-1" ||
			!got.CreatedAt.Equal(created) || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("get: %+v, %v", got, err)
		}
		list, err := db.ListModels(ctx)
		if err != nil || len(list) != 3 || list[0].Name != "Claude/Sonnet ✓" || list[1].Name != "a-model-with-dot." ||
			list[2].Name != "gpt-4o" {
			t.Fatalf("list: %v, %v", list, err)
		}
		upd := &store.Model{Name: "gpt-4o", Spec: []byte(`{"retries":0}`)}
		if err := write(func(tx *store.Tx) error { return tx.UpdateModel(ctx, upd) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.GetModel(ctx, "gpt-4o"); string(got.Spec) != `{"retries":0}` || !got.UpdatedAt.After(created) ||
			!got.CreatedAt.Equal(created) {
			t.Fatalf("after update: %+v", got)
		}
		del := func(tx *store.Tx) error { return tx.DeleteModel(ctx, "gpt-4o") }
		if err := write(del); err != nil {
			t.Fatal(err)
		}
		for _, err := range []error{
			write(del),
			write(func(tx *store.Tx) error { return tx.UpdateModel(ctx, &store.Model{Name: "gpt-4o", Spec: []byte(`{}`)}) }),
			func() error { _, err := db.GetModel(ctx, "gpt-4o"); return err }(),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("after delete: %v, want ErrNotFound", err)
			}
		}
	})
}
