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

// hashiEnv returns a getenv that points hashivault:// at the fake transit server.
func hashiEnv(s *transittest.Server) func(string) string {
	return func(k string) string {
		switch k {
		case "VAULT_ADDR":
			return s.URL
		case "VAULT_TOKEN":
			return s.Token
		}
		return ""
	}
}

func kmsOpts(t *testing.T, url string, getenv func(string) string) BootOptions {
	o := bootOpts(t.TempDir(), "")
	o.KMSURL, o.Getenv = url, getenv
	return o
}

func TestKMSRootWithHashiCorpVaultTransit(t *testing.T) {
	ctx := context.Background()
	ts := transittest.New(t)
	st := newMem()
	opts := kmsOpts(t, "hashivault://tollgate", hashiEnv(ts))
	v, err := Boot(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.Root(), "kms:") || !bytes.HasPrefix(st.keks[0].Wrapped, []byte("vault:v1:")) {
		t.Fatalf("root %s, keyring row %q", v.Root(), st.keks[0].Wrapped)
	}
	aad := RowAAD("provider_keys", "pk_1", "secret")
	sealed, _ := v.Seal(ctx, []byte("sk-kms"), aad)
	calls := ts.Calls.Load()
	for range 10 {
		if _, err := v.Open(ctx, sealed, aad); err != nil {
			t.Fatal(err)
		}
	}
	if ts.Calls.Load() != calls {
		t.Error("opening a value called the KMS; the keyring KEK should be in memory")
	}
	if _, err := Boot(ctx, st, opts); err != nil {
		t.Fatalf("restart: %v", err)
	}
	// The KMS rotates its key; a vault rotation re-wraps the keyring under the new version.
	ts.Rotate("tollgate")
	if _, err := v.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.keks {
		if !bytes.HasPrefix(r.Wrapped, []byte("vault:v2:")) {
			t.Errorf("keyring row %s still wrapped as %.9s", r.ID, r.Wrapped)
		}
	}
	again, err := Boot(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(ctx, sealed, aad); err != nil || string(got) != "sk-kms" {
		t.Fatalf("after KMS and vault rotation: %v", err)
	}
}

func TestKMSRootFailsClosed(t *testing.T) {
	ctx := context.Background()
	ts := transittest.New(t)
	st := newMem()
	if _, err := Boot(ctx, st, kmsOpts(t, "hashivault://tollgate", hashiEnv(ts))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   BootOptions
		before func()
	}{
		{"another transit key", kmsOpts(t, "hashivault://other", hashiEnv(ts)), nil},
		{"the master key instead of the KMS", bootOpts(t.TempDir(), masterKey()), nil},
		{"a bad token", kmsOpts(t, "hashivault://tollgate", func(k string) string {
			if k == "VAULT_ADDR" {
				return ts.URL
			}
			return "hvs.wrong"
		}), nil},
		{"the KMS is down", kmsOpts(t, "hashivault://tollgate", hashiEnv(ts)), func() { ts.Down.Store(true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
				defer ts.Down.Store(false)
			}
			_, err := Boot(ctx, st, tt.opts)
			if err == nil || !strings.Contains(err.Error(), "cannot open the data") {
				t.Fatalf("want a clear refusal, got %v", err)
			}
			if strings.Contains(err.Error(), ts.Token) {
				t.Fatal("the message contains the Vault token")
			}
		})
	}
}

func TestKMSWrappedValuesFailClosed(t *testing.T) {
	ctx := context.Background()
	ts := transittest.New(t)
	key := make([]byte, 32)
	rand.Read(key)
	b64url := "base64key://" + base64.URLEncoding.EncodeToString(key)
	for _, tc := range []struct{ name, url string }{{"hashivault", "hashivault://tollgate"}, {"base64key", b64url}} {
		t.Run(tc.name, func(t *testing.T) {
			kek, err := OpenKMS(ctx, tc.url, hashiEnv(ts))
			if err != nil {
				t.Fatal(err)
			}
			defer kek.Close()
			v := New(kek) // Data keys wrapped by the KMS directly.
			aad := RowAAD("provider_keys", "pk_1", "secret")
			sealed, err := v.Seal(ctx, []byte("sk-wrapped-by-kms"), aad)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := v.Open(ctx, sealed, aad); err != nil || string(got) != "sk-wrapped-by-kms" {
				t.Fatalf("round trip: %v", err)
			}
			if _, err := v.Open(ctx, sealed, RowAAD("provider_keys", "pk_2", "secret")); err == nil {
				t.Fatal("a KMS-wrapped value opened in another row")
			}
			for i := range len(sealed) * 8 {
				b := bytes.Clone(sealed)
				b[i/8] ^= 1 << (i % 8)
				if _, err := v.Open(ctx, b, aad); err == nil {
					t.Fatalf("flipping bit %d still opened", i)
				}
			}
		})
	}
}

func TestOpenKMSErrorsDoNotRevealTheURL(t *testing.T) {
	key := make([]byte, 31)
	rand.Read(key)
	bad := "base64key://" + base64.URLEncoding.EncodeToString(key)
	for _, url := range []string{bad, "nosuchkms://" + base64.URLEncoding.EncodeToString(key)} {
		_, err := OpenKMS(context.Background(), url, func(string) string { return "" })
		if err == nil {
			t.Fatalf("opened %s", url[:10])
		}
		if strings.Contains(err.Error(), base64.URLEncoding.EncodeToString(key)) {
			t.Fatalf("error repeats the URL: %v", err)
		}
	}
}
