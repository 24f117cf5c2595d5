package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func TestProjects(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, name := range []string{"beta", "alpha", "Zeta"} {
			p := &store.Project{Name: name, Settings: []byte(`{"budget":{"limit_usd":10,"period":"month"}}`), CreatedBy: "adm"}
			if err := db.CreateProject(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateProject(ctx, &store.Project{Name: "alpha"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate: %v", err)
		}
		page, err := db.ListProjects(ctx, "", 2)
		if err != nil || len(page) != 2 || page[0].Name != "Zeta" || page[1].Name != "alpha" {
			t.Fatalf("first page: %v %v", page, err)
		}
		rest, _ := db.ListProjects(ctx, page[1].Name, 0)
		if len(rest) != 1 || rest[0].Name != "beta" {
			t.Fatalf("second page: %v", rest)
		}
		p := &store.Project{Name: "alpha", Settings: []byte(`{}`)}
		if err := db.UpdateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetProject(ctx, "alpha")
		if err != nil || string(got.Settings) != "{}" || got.CreatedBy != "adm" || !got.UpdatedAt.Equal(p.UpdatedAt) {
			t.Fatalf("after update: %+v %v", got, err)
		}
		if err := db.UpdateProject(ctx, &store.Project{Name: "nope"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}

		// A project with a live key cannot be deleted; once the key is revoked it can.
		db.CreateKey(ctx, &store.Key{ID: "k1", Kind: "client", Project: "alpha", Status: "active", Hash: []byte("h")})
		if err := db.DeleteProject(ctx, "alpha"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("delete in use: %v", err)
		}
		db.RevokeKeys(ctx, store.KeySelector{Project: "alpha"}, "")
		if err := db.DeleteProject(ctx, "alpha"); err != nil {
			t.Fatalf("delete after revoking: %v", err)
		}
		if err := db.DeleteProject(ctx, "alpha"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}
