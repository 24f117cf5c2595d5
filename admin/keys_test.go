package admin_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// recordingAuditor keeps the events it is given, and fails while down is set.
type recordingAuditor struct {
	mu     sync.Mutex
	events []audit.Event
	down   bool
}

func (r *recordingAuditor) Record(_ context.Context, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return errors.New("audit store unreachable")
	}
	r.events = append(r.events, e)
	return nil
}

// actions returns "action target" of every event recorded since the last call.
func (r *recordingAuditor) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Action+" "+e.Target)
	}
	r.events = nil
	return out
}

// recordingBus keeps the ids published.
type recordingBus struct {
	mu  sync.Mutex
	ids []string
}

func (b *recordingBus) Publish(_ context.Context, topic, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ids = append(b.ids, topic+":"+id)
	return nil
}

func (b *recordingBus) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.ids
	b.ids = nil
	slices.Sort(out)
	return out
}

type env struct {
	ctx   context.Context
	db    *store.DB
	aud   *recordingAuditor
	bus   *recordingBus
	keys  *admin.Keys
	proj  *admin.Projects
	toks  *admin.Tokens
	actor audit.Actor
}

func newEnv(t *testing.T, db *store.DB) *env {
	aud, bus := &recordingAuditor{}, &recordingBus{}
	d := admin.Deps{Hasher: keys.NewHasher([]byte("0123456789abcdef0123456789abcdef")), Auditor: aud, Bus: bus}
	return &env{ctx: context.Background(), db: db, aud: aud, bus: bus, keys: admin.NewKeys(db, d),
		proj: admin.NewProjects(db, d), toks: admin.NewTokens(db, d),
		actor: audit.Actor{ID: "adm1", Name: "ops", SourceIP: "192.0.2.1", RequestID: "req_1"}}
}

func errCode(err error) string {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestEveryKeyActionIsAuditedOnce(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v, err := e.keys.Create(e.ctx, e.actor, keys.CreateRequest{Name: "svc", Project: "p1", Owner: "alice",
			Settings: keys.Settings{CanMint: true}})
		if err != nil {
			t.Fatal(err)
		}
		id := v.ID
		p := keys.Patch{}
		p.Name = keys.Opt[string]{Set: true, V: "renamed"}
		steps := []struct {
			do     func() error
			action string
		}{
			{func() error { return nil }, "key.create key:" + id},
			{func() error { _, err := e.keys.Update(e.ctx, e.actor, id, p); return err }, "key.update key:" + id},
			{func() error { _, err := e.keys.Rotate(e.ctx, e.actor, id, "1h"); return err }, "key.rotate key:" + id},
			{func() error { _, err := e.keys.SetStatus(e.ctx, e.actor, id, false); return err }, "key.disable key:" + id},
			{func() error { _, err := e.keys.SetStatus(e.ctx, e.actor, id, true); return err }, "key.enable key:" + id},
			{func() error { _, err := e.keys.Revoke(e.ctx, e.actor, id, "leak"); return err }, "key.revoke key:" + id},
			{func() error { return e.keys.Delete(e.ctx, e.actor, id) }, "key.delete key:" + id},
			{func() error {
				_, err := e.keys.RevokeBulk(e.ctx, e.actor, admin.BulkRevoke{Owner: "alice"})
				return err
			}, "key.bulk_revoke owner:alice"},
		}
		for _, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.action, err)
			}
			if got := e.aud.take(); !slices.Equal(got, []string{s.action}) {
				t.Fatalf("audited %v, want [%s]", got, s.action)
			}
		}
		if _, err := e.keys.Get(e.ctx, id); errCode(err) != "not_found" {
			t.Fatalf("a deleted key is still shown: %v", err)
		}
	})
}

func TestNoAuditNoChange(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v, _ := e.keys.Create(e.ctx, e.actor, keys.CreateRequest{Name: "svc"})
		e.aud.down = true
		if _, err := e.keys.Create(e.ctx, e.actor, keys.CreateRequest{Name: "other"}); errCode(err) != "audit_unavailable" {
			t.Fatalf("create without audit: %v", err)
		}
		if _, err := e.keys.Revoke(e.ctx, e.actor, v.ID, "x"); errCode(err) != "audit_unavailable" {
			t.Fatalf("revoke without audit: %v", err)
		}
		if _, err := e.toks.Create(e.ctx, e.actor, keys.TokenRequest{Name: "t", Role: "admin"}); errCode(err) != "audit_unavailable" {
			t.Fatalf("token without audit: %v", err)
		}
		if _, err := e.proj.Create(e.ctx, e.actor, admin.ProjectRequest{Name: "p"}); errCode(err) != "audit_unavailable" {
			t.Fatalf("project without audit: %v", err)
		}
		e.aud.down = false
		list, _ := e.keys.List(e.ctx, store.KeyFilter{})
		if len(list) != 1 || list[0].Status != "active" {
			t.Fatalf("keys changed without an audit record: %+v", list)
		}
		if toks, _ := e.toks.List(e.ctx); len(toks) != 0 {
			t.Fatal("an admin token was made without an audit record")
		}
	})
}

func TestRevocationPublishesEveryKeyItTouches(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		parent, _ := e.keys.Create(e.ctx, e.actor, keys.CreateRequest{Name: "p", Settings: keys.Settings{CanMint: true}})
		row, _ := db.GetKey(e.ctx, parent.ID)
		pp := &keys.Principal{ID: row.ID, Kind: keys.KindClient, Settings: keys.Settings{Models: []string{"*"},
			Endpoints: keys.AllEndpoints, CanMint: true}}
		e.aud.take()
		child, err := e.keys.Mint(e.ctx, audit.Actor{ID: parent.ID}, pp, keys.MintRequest{TTL: "1m"})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.aud.take(); !slices.Equal(got, []string{"key.mint key:" + child.ID}) {
			t.Fatalf("mint audited as %v", got)
		}
		e.bus.take()
		if _, err := e.keys.Revoke(e.ctx, e.actor, parent.ID, "leak"); err != nil {
			t.Fatal(err)
		}
		want := []string{"keys:" + child.ID, "keys:" + parent.ID}
		slices.Sort(want)
		if got := e.bus.take(); !slices.Equal(got, want) {
			t.Fatalf("published %v, want %v", got, want)
		}
		if _, err := e.keys.SetStatus(e.ctx, e.actor, parent.ID, true); errCode(err) != "conflict" {
			t.Fatalf("re-enabled a revoked key: %v", err)
		}
		if _, err := e.keys.Rotate(e.ctx, e.actor, parent.ID, "0s"); errCode(err) != "conflict" {
			t.Fatalf("rotated a revoked key: %v", err)
		}
		if _, err := e.keys.Update(e.ctx, e.actor, child.ID, keys.Patch{}); errCode(err) != "conflict" {
			t.Fatalf("changed an ephemeral key: %v", err)
		}
	})
}

func TestBulkRevokeNeedsOneSelector(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	for _, b := range []admin.BulkRevoke{{}, {Owner: "a", Project: "b"}, {Reason: "only a reason"}} {
		if _, err := e.keys.RevokeBulk(e.ctx, e.actor, b); errCode(err) != "invalid_value" {
			t.Errorf("%+v: %v", b, err)
		}
	}
	if got := e.aud.take(); len(got) != 0 {
		t.Fatalf("refused requests were audited as actions: %v", got)
	}
}

func TestDecodeIsStrict(t *testing.T) {
	var req keys.CreateRequest
	if err := admin.Decode([]byte(`{"name":"x","model":["gpt-4o"]}`), &req); errCode(err) != "invalid_value" ||
		!strings.Contains(err.Error(), "'model'") {
		t.Fatalf("misspelt field: %v", err)
	}
	secret := "tgk_AAAAAAAAAAAA_" + strings.Repeat("B", 38)
	err := admin.Decode([]byte(`{"`+secret+`":1}`), &req)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("a key-like field name was echoed: %v", err)
	}
	if err := admin.Decode([]byte(`{"name":"x","models":["a"],"can_mint":true,"ttl":"1h"}`), &req); err != nil ||
		!req.CanMint || req.TTL != "1h" {
		t.Fatalf("embedded settings: %v %+v", err, req)
	}
	if err := admin.Decode([]byte(`{"name":5}`), &req); errCode(err) != "invalid_value" {
		t.Fatalf("wrong type: %v", err)
	}
	if err := admin.Decode([]byte(`[1]`), &req); errCode(err) != "invalid_json" {
		t.Fatalf("array body: %v", err)
	}
	var p keys.Patch
	if err := admin.Decode([]byte(`{"expires_at":null,"models":["x"]}`), &p); err != nil ||
		!p.ExpiresAt.Set || !p.ExpiresAt.Null || !p.Models.Set || p.Name.Set {
		t.Fatalf("patch presence: %v %+v", err, p)
	}
}

func TestProjectsAndTokens(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if _, err := e.proj.Create(e.ctx, e.actor, admin.ProjectRequest{Name: "bad name"}); errCode(err) != "invalid_value" {
			t.Fatalf("bad name: %v", err)
		}
		req := admin.ProjectRequest{Name: "web"}
		req.Budget = &keys.Budget{LimitUSD: "100", Period: "month"}
		if _, err := e.proj.Create(e.ctx, e.actor, req); err != nil {
			t.Fatal(err)
		}
		if _, err := e.proj.Create(e.ctx, e.actor, req); errCode(err) != "conflict" {
			t.Fatalf("duplicate project: %v", err)
		}
		var patch admin.ProjectPatch
		patch.Limits = keys.Opt[*keys.Limits]{Set: true, V: &keys.Limits{RPM: 60}}
		v, err := e.proj.Update(e.ctx, e.actor, "web", patch)
		if err != nil || v.Limits.RPM != 60 || v.Budget == nil {
			t.Fatalf("update: %+v %v", v, err)
		}
		e.keys.Create(e.ctx, e.actor, keys.CreateRequest{Name: "k", Project: "web"})
		if err := e.proj.Delete(e.ctx, e.actor, "web"); errCode(err) != "conflict" {
			t.Fatalf("delete in use: %v", err)
		}
		e.keys.RevokeBulk(e.ctx, e.actor, admin.BulkRevoke{Project: "web"})
		if err := e.proj.Delete(e.ctx, e.actor, "web"); err != nil {
			t.Fatal(err)
		}

		e.aud.take()
		tok, err := e.toks.Create(e.ctx, e.actor, keys.TokenRequest{Name: "ci", Role: "viewer"})
		if err != nil || !strings.HasPrefix(tok.Token, "tga_") || tok.Role != "viewer" {
			t.Fatalf("token: %+v %v", tok, err)
		}
		if list, _ := e.toks.List(e.ctx); len(list) != 1 || list[0].Token != "" {
			t.Fatalf("token list: %+v", list)
		}
		if err := e.toks.Delete(e.ctx, e.actor, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.toks.Delete(e.ctx, e.actor, tok.ID); errCode(err) != "not_found" {
			t.Fatalf("delete twice: %v", err)
		}
		want := []string{"admin_token.create admin_token:" + tok.ID, "admin_token.delete admin_token:" + tok.ID}
		if got := e.aud.take(); !slices.Equal(got, want) {
			t.Fatalf("admin tokens audited as %v, want %v", got, want)
		}
		e.toks.AuthFailed(e.ctx, audit.Actor{SourceIP: "198.51.100.1"}, "invalid_token")
		if got := e.aud.take(); !slices.Equal(got, []string{"admin.auth_failed "}) {
			t.Fatalf("auth failure audited as %v", got)
		}
	})
}

// TestRotateKeepsTheID checks the new secret is shown once and the id stays.
func TestRotateKeepsTheID(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	v, _ := e.keys.Create(e.ctx, e.actor, keys.CreateRequest{Name: "svc", TTL: "24h"})
	r, err := e.keys.Rotate(e.ctx, e.actor, v.ID, "2h")
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != v.ID || r.Key == v.Key || !strings.Contains(r.Key, v.ID) || r.GraceUntil == nil ||
		r.GraceUntil.Sub(time.Now()) < time.Hour || !r.ExpiresAt.Equal(*v.ExpiresAt) {
		t.Fatalf("rotated view %+v", r)
	}
	if got, _ := e.keys.Get(e.ctx, v.ID); got.Key != "" {
		t.Fatal("GET shows the secret")
	}
	if _, err := e.keys.Rotate(e.ctx, e.actor, v.ID, "-1s"); errCode(err) != "invalid_value" {
		t.Fatalf("negative grace: %v", err)
	}
}
