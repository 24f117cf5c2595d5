package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// GitHub's documented sample request and the public key it is signed with, as
// published at https://api.github.com/meta/public_keys/secret_scanning.
const (
	githubKeyID   = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c"
	githubPEM     = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYAGMWO8XgCamYKMJS6jc/qgvSlAd\nAjPuDPRcXU22YxgBrz+zoN19MzuRyW87qEt9/AmtoNP5GrobzUvQSyJFVw==\n-----END PUBLIC KEY-----\n"
	githubSig     = "MEQCIQDaMKqrGnE27S0kgMrEK0eYBmyG0LeZismAEz/BgZyt7AIfXt9fErtRS4XaeSt/AO1RtBY66YcAdjxji410VQV4xg=="
	githubPayload = `[{"source":"commit","token":"some_token","type":"some_type","url":"https://example.com/base-repo-url/"}]`
)

func TestAlertKeysVerifyGitHubsPublishedSample(t *testing.T) {
	k, err := admin.ParseAlertKeys(map[string][]byte{githubKeyID: []byte(githubPEM)})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Verify(githubKeyID, githubSig, []byte(githubPayload)); err != nil {
		t.Fatalf("GitHub's sample does not verify: %v", err)
	}
	for name, tc := range map[string][3]string{
		"body with a trailing newline": {githubKeyID, githubSig, githubPayload + "\n"},
		"reformatted body":             {githubKeyID, githubSig, strings.ReplaceAll(githubPayload, ",", ", ")},
		"other key id":                 {strings.Repeat("0", 64), githubSig, githubPayload},
		"truncated signature":          {githubKeyID, githubSig[:20], githubPayload},
	} {
		err := k.Verify(tc[0], tc[1], []byte(tc[2]))
		var ae *apierr.Error
		if !errors.Is(err, admin.ErrBadSignature) || !errors.As(err, &ae) || ae.Status != 401 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseAlertKeysRefusesOtherKeys(t *testing.T) {
	pemOf := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privDER, _ := x509.MarshalECPrivateKey(p256)
	for name, data := range map[string][]byte{
		"P-384":       pemOf(&p384.PublicKey),
		"RSA":         pemOf(&rsaKey.PublicKey),
		"private key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER}),
		"not PEM":     []byte("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
	} {
		if _, err := admin.ParseAlertKeys(map[string][]byte{"k": data}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// leakEnv is a store, the key services over a movable clock, and a signer.
type leakEnv struct {
	*env
	now    atomic.Pointer[time.Time]
	leaks  *admin.Leaks
	signer *ecdsa.PrivateKey
}

func newLeakEnv(t *testing.T, db *store.DB) *leakEnv {
	l := &leakEnv{env: newEnv(t, db)}
	start := time.Now()
	l.now.Store(&start)
	d := admin.Deps{Hasher: keys.NewHasher([]byte("0123456789abcdef0123456789abcdef")), Auditor: l.aud, Bus: l.bus,
		Now: func() time.Time { return *l.now.Load() }}
	l.keys, l.toks = admin.NewKeys(db, d), admin.NewTokens(db, d)
	l.signer, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&l.signer.PublicKey)
	ak, err := admin.ParseAlertKeys(map[string][]byte{"k1": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})})
	if err != nil {
		t.Fatal(err)
	}
	l.leaks = admin.NewLeaks(l.keys, l.toks, ak)
	return l
}

// report sends a signed report of token and returns its label.
func (l *leakEnv) report(t *testing.T, token string) (string, error) {
	t.Helper()
	body, _ := json.Marshal([]admin.TokenAlert{{Token: token, Type: "tollgate", URL: "https://github.com/o/r", Source: "content"}})
	body = []byte(strings.Replace(string(body), "[REDACTED]", token, 1)) // TokenAlert marshals without its token
	digest := sha256.Sum256(body)
	sig, _ := ecdsa.SignASN1(rand.Reader, l.signer, digest[:])
	res, err := l.leaks.Report(l.ctx, l.actor, "k1", base64.StdEncoding.EncodeToString(sig), body)
	if err != nil {
		return "", err
	}
	return res[0].Label, nil
}

// TestLeakedPreviousSecret reports the secret a rotation replaced: within the grace it
// still opens the key, so the key is revoked; after the grace it opens nothing, so the
// report is recorded and the key left alone.
func TestLeakedPreviousSecret(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		l := newLeakEnv(t, db)
		status := func(id string) string {
			v, err := l.keys.Get(l.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return v.Status
		}
		for _, tc := range []struct {
			name  string
			after time.Duration
			want  string
		}{{"within the grace", 0, "revoked"}, {"after the grace", 2 * time.Hour, "active"}} {
			v, err := l.keys.Create(l.ctx, l.actor, keys.CreateRequest{Name: tc.name})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.keys.Rotate(l.ctx, l.actor, v.ID, "1h"); err != nil {
				t.Fatal(err)
			}
			later := l.now.Load().Add(tc.after)
			l.now.Store(&later)
			l.aud.take()
			if label, err := l.report(t, v.Key); err != nil || label != admin.LabelTruePositive {
				t.Fatalf("%s: %s %v", tc.name, label, err)
			}
			if got := status(v.ID); got != tc.want {
				t.Errorf("%s: the key is %s, want %s", tc.name, got, tc.want)
			}
			if got := l.aud.take(); len(got) != map[string]int{"revoked": 2, "active": 1}[tc.want] {
				t.Errorf("%s: audited %v", tc.name, got)
			}
		}
	})
}

// TestLeakReportWithTheAuditLogDown refuses to act when the revocation cannot be
// audited, like every other admin change, so the report can be sent again.
func TestLeakReportWithTheAuditLogDown(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		l := newLeakEnv(t, db)
		v, err := l.keys.Create(l.ctx, l.actor, keys.CreateRequest{Name: "svc"})
		if err != nil {
			t.Fatal(err)
		}
		l.aud.down = true
		var ae *apierr.Error
		if _, err := l.report(t, v.Key); !errors.As(err, &ae) || ae.Status != 503 {
			t.Fatalf("with the audit log down: %v", err)
		}
		l.aud.down = false
		if got, _ := l.keys.Get(l.ctx, v.ID); got.Status != "active" {
			t.Fatalf("the key is %s", got.Status)
		}
		if label, err := l.report(t, v.Key); err != nil || label != admin.LabelTruePositive {
			t.Fatalf("retry: %s %v", label, err)
		}
		if got, _ := l.keys.Get(l.ctx, v.ID); got.Status != "revoked" {
			t.Fatalf("after the retry the key is %s", got.Status)
		}
	})
}
