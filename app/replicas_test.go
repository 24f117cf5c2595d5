package app_test

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// tollgateBinary builds cmd/tollgate into the test's temporary directory.
func tollgateBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tollgate")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tollgate-llm/tollgate/cmd/tollgate").CombinedOutput()
	if err != nil {
		t.Fatalf("building tollgate: %v\n%s", err, out)
	}
	return bin
}

// replica is a `tollgate serve` process.
type replica struct {
	url  string
	logs *syncBuffer
	g    *gateway // for the request helpers; only URL and Key are set
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startReplica runs tollgate serve with env and waits until it is ready.
func startReplica(t *testing.T, bin, config string, env []string) *replica {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--config", config)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), append(env, "TOLLGATE_LISTEN="+addr)...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	r := &replica{url: "http://" + addr, logs: logs}
	r.g = &gateway{URL: r.url}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica on %s did not get ready:\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// twoReplicas starts two tollgate processes on one fresh PostgreSQL schema, with Redis
// when redisURL is set, serving a fake upstream.
func twoReplicas(t *testing.T, redisURL string) (a, b *replica) {
	dbURL := storetest.URL(t, store.DialectPostgres) // skips without PostgreSQL
	bin := tollgateBinary(t)
	fake := fakellm.New(fakellm.Options{Keys: []string{upstreamKey}, Models: []string{"*"}})
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	config := filepath.Join(t.TempDir(), "tollgate.yaml")
	yaml := "providers:\n  - name: fake\n    type: openai\n    base_url: " + base +
		"\n    keys: [{secret: env:FAKE_OPENAI_KEY}]\nmodels:\n  - name: gpt-4o-mini\n    targets: [{provider: fake}]\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	rand.Read(master)
	env := []string{"TOLLGATE_DATABASE_URL=" + dbURL, "TOLLGATE_REDIS_URL=" + redisURL,
		"TOLLGATE_MASTER_KEY=" + base64.StdEncoding.EncodeToString(master), "TOLLGATE_ADMIN_TOKEN=" + adminToken,
		"FAKE_OPENAI_KEY=" + upstreamKey, "TOLLGATE_CONFIG="}
	a = startReplica(t, bin, config, env)
	b = startReplica(t, bin, config, env)
	return a, b
}

// revokedWithin revokes a key through replica a and polls replica b until it refuses
// the key, returning how long that took after the revocation returned, and the key.
func revokedWithin(t *testing.T, a, b *replica) (time.Duration, string) {
	t.Helper()
	id, key := a.g.createKey(t, `{"name":"shared"}`)
	expect(t, "the key on replica B", b.g.chat(t, key, "gpt-4o-mini", nil), 200, "")
	// Disable and enable travel too (reversible).
	a.g.admin(t, "POST", "/keys/"+id+"/disable", "", 200, nil)
	waitFor(t, b, key, 401, "invalid_api_key")
	a.g.admin(t, "POST", "/keys/"+id+"/enable", "", 200, nil)
	waitFor(t, b, key, 200, "")

	a.g.admin(t, "POST", "/keys/"+id+"/revoke", `{"reason":"replica test"}`, 200, nil)
	revoked := time.Now()
	waitFor(t, b, key, 401, "revoked_api_key")
	return time.Since(revoked), key
}

// waitFor polls GET /v1/key on r with key until it answers status and code, failing
// after 10 s.
func waitFor(t *testing.T, r *replica, key string, status int, code string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.g.call(t, "GET", "/v1/key", key, "", nil)
		if got.status == status && got.code == code {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica B still answers %d %q: %s", got.status, got.code, got.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkReplicaLogs fails if a replica logged a key or token.
func checkReplicaLogs(t *testing.T, secrets []string, rs ...*replica) {
	t.Helper()
	for i, r := range rs {
		logs := r.logs.String()
		if !strings.Contains(logs, `"msg":"request"`) {
			t.Fatalf("replica %d logged no requests", i)
		}
		for _, s := range secrets {
			if strings.Contains(logs, s) {
				t.Errorf("replica %d logged a secret", i)
			}
		}
	}
}

// TestTwoReplicasRedis: a key revoked through replica A is refused by replica B within
// 1 s, with invalidation over Redis pub/sub.
func TestTwoReplicasRedis(t *testing.T) {
	redisURL := os.Getenv("TOLLGATE_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("set TOLLGATE_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run Redis tests (as .ci/run does)")
	}
	a, b := twoReplicas(t, redisURL)
	d, key := revokedWithin(t, a, b)
	if d > time.Second {
		t.Fatalf("replica B refused the revoked key after %v, want within 1s", d)
	}
	t.Logf("replica B refused the revoked key %v after the revocation returned", d)
	checkReplicaLogs(t, []string{adminToken, key[17:]}, a, b)
}

// TestTwoReplicasPostgres: without Redis, replica B refuses a key revoked through A
// within 2 s (PostgreSQL LISTEN/NOTIFY).
func TestTwoReplicasPostgres(t *testing.T) {
	a, b := twoReplicas(t, "")
	d, key := revokedWithin(t, a, b)
	if d > 2*time.Second {
		t.Fatalf("replica B refused the revoked key after %v, want within 2s", d)
	}
	t.Logf("replica B refused the revoked key %v after the revocation returned", d)
	checkReplicaLogs(t, []string{adminToken, key[17:]}, a, b)
}
