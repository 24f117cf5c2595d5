package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/vault/transittest"
)

func masterKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

func boot(t *testing.T, st Store, master string) *Vault {
	t.Helper()
	v, err := Boot(context.Background(), st, bootOpts(t.TempDir(), master))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBootCreatesAKeyringUnderTheRoot(t *testing.T) {
	ctx := context.Background()
	st, master := newMem(), masterKey()
	v := boot(t, st, master)
	if len(st.keks) != 1 || st.keks[0].Version != 1 || v.CurrentKEK() != st.keks[0].ID {
		t.Fatalf("keyring %+v, current %s", st.keks, v.CurrentKEK())
	}
	if !strings.HasPrefix(v.CurrentKEK(), "kek1:") || st.keks[0].RootID != v.Root() {
		t.Fatalf("ids: current %s root %s record %+v", v.CurrentKEK(), v.Root(), st.keks[0])
	}
	if id, _ := KEKOf(st.m[canaryName]); id != v.CurrentKEK() {
		t.Fatalf("canary sealed with %s, want the keyring KEK %s", id, v.CurrentKEK())
	}
	sealed, err := v.Seal(ctx, []byte("sk-live"), RowAAD("t", "1", "c"))
	if err != nil {
		t.Fatal(err)
	}
	// A restart with the same master key opens the same keyring and the value.
	again := boot(t, st, master)
	if got, err := again.Open(ctx, sealed, RowAAD("t", "1", "c")); err != nil || string(got) != "sk-live" {
		t.Fatalf("restart cannot open: %v", err)
	}
	if len(st.keks) != 1 {
		t.Fatalf("restart added a version: %+v", st.keks)
	}
}

func TestBootOpensDataSealedUnderTheRootBeforeTheKeyring(t *testing.T) {
	ctx := context.Background()
	st, master := newMem(), masterKey()
	key, _ := base64.StdEncoding.DecodeString(master)
	root, _ := NewLocalKEK(key)
	legacy := New(root)
	canary, _ := legacy.Seal(ctx, []byte(canaryText), RowAAD("meta", canaryName, "value"))
	st.m[canaryName] = canary
	v := boot(t, st, master)
	if v.CurrentKEK() == root.ID() || len(st.keks) != 1 {
		t.Fatalf("no keyring was created: current %s", v.CurrentKEK())
	}
	re, err := v.Rewrap(ctx, canary, RowAAD("meta", canaryName, "value"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KEKOf(re); id != v.CurrentKEK() {
		t.Fatalf("rewrapped onto %s", id)
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	st, master := newMem(), masterKey()
	a, b := boot(t, st, master), boot(t, st, master) // Two replicas.
	aad := RowAAD("provider_keys", "pk_1", "secret")
	old, _ := a.Seal(ctx, []byte("sk-old"), aad)
	before := a.CurrentKEK()
	wrappedBefore := bytes.Clone(st.keks[0].Wrapped)

	info, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != 2 || !info.Current || a.CurrentKEK() != info.ID || info.ID == before {
		t.Fatalf("rotate: %+v, current %s", info, a.CurrentKEK())
	}
	if bytes.Equal(st.keks[0].Wrapped, wrappedBefore) {
		t.Error("rotation did not re-wrap the keyring under the root")
	}
	// The old value opens, and rewraps onto the new version.
	re, err := a.Rewrap(ctx, old, aad)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KEKOf(re); id != info.ID {
		t.Fatalf("rewrapped under %s, want %s", id, info.ID)
	}
	// Replica b has not heard of version 2, and loads it when it meets a value under it.
	if b.CurrentKEK() != before {
		t.Fatalf("b moved on its own: %s", b.CurrentKEK())
	}
	if got, err := b.Open(ctx, re, aad); err != nil || string(got) != "sk-old" {
		t.Fatalf("replica cannot open a value under the new KEK: %v", err)
	}
	if b.CurrentKEK() != info.ID {
		t.Fatalf("b seals with %s after refresh, want %s", b.CurrentKEK(), info.ID)
	}
	// Both rotate at once: versions stay unique.
	if _, err := a.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, r := range st.keks {
		if seen[r.Version] {
			t.Fatalf("version %d twice", r.Version)
		}
		seen[r.Version] = true
	}
	if len(st.keks) != 4 || len(b.KEKs()) != 5 {
		t.Fatalf("keyring %d rows, b knows %+v", len(st.keks), b.KEKs())
	}
}

func TestWrongMasterKeyWithAKeyring(t *testing.T) {
	st := newMem()
	good, wrong := masterKey(), masterKey()
	boot(t, st, good)
	_, err := Boot(context.Background(), st, bootOpts(t.TempDir(), wrong))
	if err == nil || !strings.Contains(err.Error(), "cannot open the data") || !strings.Contains(err.Error(), st.keks[0].RootID) {
		t.Fatalf("want a refusal naming the store's root, got %v", err)
	}
	if strings.Contains(err.Error(), good) || strings.Contains(err.Error(), wrong) {
		t.Fatal("the message contains a master key")
	}
}

func TestAKeyringRowMovedToAnotherIDDoesNotOpen(t *testing.T) {
	st, master := newMem(), masterKey()
	v := boot(t, st, master)
	if _, err := v.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.keks[0].Wrapped, st.keks[1].Wrapped = st.keks[1].Wrapped, st.keks[0].Wrapped
	_, err := Boot(context.Background(), st, bootOpts(t.TempDir(), master))
	if err == nil || !strings.Contains(err.Error(), "cannot open the data") {
		t.Fatalf("swapped keyring rows opened: %v", err)
	}
}

func TestChangingTheRootKeyRewrapsTheKeyring(t *testing.T) {
	ctx := context.Background()
	ts := transittest.New(t)
	st, oldKey, newKey := newMem(), masterKey(), masterKey()
	v := boot(t, st, oldKey)
	aad := RowAAD("provider_keys", "pk_1", "secret")
	sealed, _ := v.Seal(ctx, []byte("sk-survives"), aad)

	// Without the previous key the new one is refused; with it, the keyring moves over.
	if _, err := Boot(ctx, st, bootOpts(t.TempDir(), newKey)); err == nil {
		t.Fatal("a new master key started without the previous one")
	}
	opts := bootOpts(t.TempDir(), newKey)
	opts.PreviousMasterKey = masterKey()
	if _, err := Boot(ctx, st, opts); err == nil || !strings.Contains(err.Error(), "cannot open the data") {
		t.Fatalf("a wrong previous key: %v", err)
	}
	opts.PreviousMasterKey = oldKey
	moved, err := Boot(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.keks[0].RootID != moved.Root() {
		t.Fatalf("keyring still under %s", st.keks[0].RootID)
	}
	// From now on the new key alone opens everything, and the old one nothing.
	again := boot(t, st, newKey)
	if got, err := again.Open(ctx, sealed, aad); err != nil || string(got) != "sk-survives" {
		t.Fatalf("after the root change: %v", err)
	}
	if _, err := Boot(ctx, st, bootOpts(t.TempDir(), oldKey)); err == nil {
		t.Fatal("the old master key still opens the store")
	}
	// And on to a KMS.
	kms := kmsOpts(t, "hashivault://tollgate", hashiEnv(ts))
	kms.PreviousMasterKey = newKey
	if _, err := Boot(ctx, st, kms); err != nil {
		t.Fatal(err)
	}
	kms.PreviousMasterKey = ""
	onKMS, err := Boot(ctx, st, kms)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := onKMS.Open(ctx, sealed, aad); err != nil || string(got) != "sk-survives" {
		t.Fatalf("after moving to the KMS: %v", err)
	}
}
