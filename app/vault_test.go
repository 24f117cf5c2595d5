package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/app"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
	"github.com/tollgate-llm/tollgate/telemetry"
	"github.com/tollgate-llm/tollgate/vault/transittest"
)

// storedKeys are provider keys added through the admin API; like upstreamKey they look
// real, so the database and log checks would catch them.
var storedKeys = []string{
	"sk-proj-STOREDkeyONEdoNotUse0123456789abcdefghijklmn",
	"sk-ant-api03-STOREDkeyTWOdoNotUse0123456789abcdefghij",
	"gsk_STOREDkeyTHREEdoNotUse0123456789abcdefghijklmnop",
}

// startWithBase starts the gateway and returns the fake upstream's base URL too.
func startWithBase(t *testing.T, engine string) (*gateway, string) {
	t.Helper()
	var base string
	g := startGateway(t, engine, func(c *configs.Config) { base = c.Providers[0].BaseURL })
	return g, base
}

// addStoredProvider creates a provider through the admin API with one key per secret
// and returns the key views.
func addStoredProvider(t *testing.T, g *gateway, name, base string, secrets ...string) []admin.KeyView {
	t.Helper()
	g.admin(t, "POST", "/providers", fmt.Sprintf(`{"name":%q,"type":"openai","base_url":%q}`, name, base), 201, nil)
	var out []admin.KeyView
	for i, s := range secrets {
		var v admin.KeyView
		g.admin(t, "POST", "/providers/"+name+"/keys", fmt.Sprintf(`{"secret":%q,"label":"k%d","weight":2}`, s, i), 201, &v)
		out = append(out, v)
	}
	return out
}

func vaultStatus(t *testing.T, g *gateway) admin.VaultStatus {
	t.Helper()
	var st admin.VaultStatus
	g.admin(t, "GET", "/vault/status", "", 200, &st)
	return st
}

// checkAllOnCurrentKEK fails unless every sealed value is under the current KEK and
// opens.
func checkAllOnCurrentKEK(t *testing.T, st admin.VaultStatus) {
	t.Helper()
	if st.Unreadable != 0 || st.Unopenable != 0 || st.Total == 0 {
		t.Fatalf("status: %+v", st)
	}
	for _, k := range st.KEKs {
		if want := 0; !k.Current && k.Rows != want {
			t.Errorf("KEK %s (version %d) still holds %d rows", k.ID, k.Version, k.Rows)
		}
		if k.Current && k.Rows != st.Total {
			t.Errorf("current KEK %s holds %d of %d rows", k.ID, k.Rows, st.Total)
		}
	}
	if len(st.RowsByKEK) != 1 || st.RowsByKEK[st.CurrentKEK] != st.Total {
		t.Errorf("rows by KEK: %v, current %s", st.RowsByKEK, st.CurrentKEK)
	}
}

// TestKEKRotationUnderLoad rotates the KEK twice while requests flow through the
// gateway and provider keys are added, and checks that no request fails and every
// sealed value ends on the newest KEK.
func TestKEKRotationUnderLoad(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g, base := startWithBase(t, engine)
			// The stored provider's first key is the one the fake upstream accepts, so
			// requests to stored-model use a key opened from the vault.
			addStoredProvider(t, g, "stored", base, append([]string{upstreamKey}, storedKeys...)...)
			g.admin(t, "PATCH", "/providers/stored/keys/"+storedKeyIDs(t, g, "stored")[1], `{"status":"disabled"}`, 200, nil)
			g.admin(t, "PATCH", "/providers/stored/keys/"+storedKeyIDs(t, g, "stored")[2], `{"status":"disabled"}`, 200, nil)
			g.admin(t, "PATCH", "/providers/stored/keys/"+storedKeyIDs(t, g, "stored")[3], `{"status":"disabled"}`, 200, nil)
			g.admin(t, "POST", "/models", `{"name":"stored-model","targets":[{"provider":"stored","model":"gpt-4o-mini"}]}`, 201, nil)
			resp := g.post(t, "/v1/chat/completions", `{"model":"stored-model","messages":[{"role":"user","content":"hi"}]}`, nil)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("x-tollgate-provider") != "stored" {
				t.Fatalf("stored-model: %d via %q", resp.StatusCode, resp.Header.Get("x-tollgate-provider"))
			}
			before := vaultStatus(t, g)

			const workers, perWorker = 8, 30
			var done, failed atomic.Int64
			var stop atomic.Bool
			var wg sync.WaitGroup
			for w := range workers {
				model := []string{"gpt-4o-mini", "stored-model"}[w%2]
				wg.Go(func() {
					// Each worker sends at least perWorker requests, and keeps going until
					// both rotations are over.
					for i := 0; i < perWorker || !stop.Load(); i++ {
						resp := g.post(t, "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`, nil)
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"choices"`)) {
							failed.Add(1)
							t.Errorf("%s failed during rotation: %d %s", model, resp.StatusCode, body)
						}
						done.Add(1)
					}
				})
			}
			var rotations []admin.RotateResult
			for i := range 2 {
				for done.Load() < int64((i+1)*workers*perWorker/3) {
					g.admin(t, "GET", "/providers", "", 200, nil) // Let the load build up.
				}
				start := done.Load()
				var res admin.RotateResult
				g.admin(t, "POST", "/vault/rotate", "{}", 200, &res)
				rotations = append(rotations, res)
				g.admin(t, "POST", "/providers/stored/keys", fmt.Sprintf(`{"secret":"sk-proj-DURINGrotation%d-doNotUse0123456789abcdef","status":"disabled"}`, i), 201, nil)
				if done.Load() == start {
					t.Errorf("no request completed during rotation %d", i+1)
				}
			}
			stop.Store(true)
			wg.Wait()
			if done.Load() < workers*perWorker || failed.Load() != 0 {
				t.Fatalf("%d requests done, %d failed", done.Load(), failed.Load())
			}
			after := vaultStatus(t, g)
			t.Logf("%d requests, none failed; rotations %+v; status %+v", done.Load(), rotations, after.KEKs)
			checkAllOnCurrentKEK(t, after)
			if after.CurrentKEK == before.CurrentKEK || after.CurrentKEK != rotations[1].KEK.ID || rotations[1].KEK.Version != 3 {
				t.Fatalf("before %s, after %s, rotations %+v", before.CurrentKEK, after.CurrentKEK, rotations)
			}
			if rotations[0].Rewrapped < before.Total || rotations[0].Remaining != 0 {
				t.Errorf("first rotation: %+v, %d values before", rotations[0], before.Total)
			}
			checkNoSecretsInLogs(t, g)
		})
	}
}

// storedKeyIDs returns the ids of a stored provider's keys, oldest first.
func storedKeyIDs(t *testing.T, g *gateway, provider string) []string {
	t.Helper()
	var list struct{ Data []admin.KeyView }
	g.admin(t, "GET", "/providers/"+provider+"/keys", "", 200, &list)
	var ids []string
	for _, k := range list.Data {
		ids = append(ids, k.ID)
	}
	return ids
}

// TestDatabaseHoldsNoPlaintextSecrets looks for provider keys, the client key and the
// admin token in every byte of the SQLite files and every row of every PostgreSQL table.
func TestDatabaseHoldsNoPlaintextSecrets(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g, base := startWithBase(t, engine)
			addStoredProvider(t, g, "stored", base, storedKeys...)
			var rotated admin.KeyView
			keys := addStoredProvider(t, g, "other", base, "sk-proj-ROTATEfromDoNotUse0123456789abcdefghijkl")
			g.admin(t, "POST", "/providers/other/keys/"+keys[0].ID+"/rotate",
				`{"secret":"sk-proj-ROTATEtoDoNotUse0123456789abcdefghijklmn","grace":"1h"}`, 201, &rotated)
			g.admin(t, "POST", "/vault/rotate", "{}", 200, nil)
			secrets := append([]string{g.Key, adminToken, "sk-proj-ROTATEfromDoNotUse0123456789abcdefghijkl",
				"sk-proj-ROTATEtoDoNotUse0123456789abcdefghijklmn"}, storedKeys...)
			dump := databaseDump(t, g.DB)
			if len(dump) < 1000 {
				t.Fatalf("database dump is only %d bytes; the check would prove nothing", len(dump))
			}
			for _, s := range secrets {
				for _, form := range []string{s, hex.EncodeToString([]byte(s)), base64.StdEncoding.EncodeToString([]byte(s))} {
					if bytes.Contains(dump, []byte(form)) {
						t.Errorf("the database holds a secret (%.12s…) in plaintext", s)
					}
				}
				// The id part of a client key is public; its secret part must not be stored.
				if i := strings.LastIndexByte(s, '_'); strings.HasPrefix(s, "tg") && i > 0 && bytes.Contains(dump, []byte(s[i+1:])) {
					t.Errorf("the database holds the secret part of %.16s…", s)
				}
			}
		})
	}
}

// databaseDump returns every byte of a SQLite database's files, or the text of every
// row of every table of a PostgreSQL schema.
func databaseDump(t *testing.T, url string) []byte {
	t.Helper()
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		var out []byte
		files, _ := filepath.Glob(path + "*") // The database, its WAL and shared memory.
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b...)
		}
		return out
	}
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.SQL().QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	var out bytes.Buffer
	for _, table := range tables {
		r, err := db.SQL().QueryContext(ctx, `SELECT t::text FROM "`+table+`" t`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var row string
			r.Scan(&row)
			out.WriteString(row + "\n")
		}
		r.Close()
	}
	return out.Bytes()
}

// checkNoSecretsInLogs fails if the gateway's log holds a provider key, the client key
// or the admin token.
func checkNoSecretsInLogs(t *testing.T, g *gateway) {
	t.Helper()
	logs := g.Logs.String()
	for _, s := range append([]string{upstreamKey, g.Key, adminToken}, storedKeys...) {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds a secret (%.12s…)", s)
		}
	}
}

// newApp assembles a gateway without serving it, with env as its environment.
func newApp(t *testing.T, dbURL, keyFile string, env map[string]string) (*app.App, error) {
	t.Helper()
	cfg := &configs.Config{Listen: "127.0.0.1:0", DatabaseURL: dbURL}
	cfg.SetDefaults()
	a, err := app.New(context.Background(), app.Options{Config: cfg, Getenv: func(k string) string { return env[k] },
		Log: telemetry.NewLogger(io.Discard, telemetry.ParseLevel("error")), Notice: io.Discard, KeyFile: keyFile})
	if err == nil {
		t.Cleanup(func() { a.Close() })
	}
	return a, err
}

func randomMasterKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// TestTheWrongRootKeyStopsTheStart starts a store with one root key and restarts it with
// another: a master key, then a KMS key of a fake HashiCorp Vault transit engine.
func TestTheWrongRootKeyStopsTheStart(t *testing.T) {
	transit := transittest.New(t)
	kms := func(url string) map[string]string {
		return map[string]string{"TOLLGATE_KMS_URL": url, "VAULT_ADDR": transit.URL, "VAULT_TOKEN": transit.Token}
	}
	master := randomMasterKey()
	tests := []struct {
		name         string
		first, again map[string]string
	}{
		{"master key", map[string]string{"TOLLGATE_MASTER_KEY": master}, map[string]string{"TOLLGATE_MASTER_KEY": randomMasterKey()}},
		{"KMS key", kms("hashivault://tollgate"), kms("hashivault://another")},
		{"master key, then KMS", map[string]string{"TOLLGATE_MASTER_KEY": master}, kms("hashivault://tollgate")},
	}
	for _, engine := range storetest.Engines() {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				url, keyFile := storetest.URL(t, engine), filepath.Join(t.TempDir(), "tollgate.key")
				a, err := newApp(t, url, keyFile, tt.first)
				if err != nil {
					t.Fatal(err)
				}
				a.Close()
				if _, err := newApp(t, url, keyFile, tt.first); err != nil {
					t.Fatalf("restart with the same key: %v", err)
				}
				_, err = newApp(t, url, keyFile, tt.again)
				if err == nil || !strings.Contains(err.Error(), "cannot open the data in this store") {
					t.Fatalf("want a clear refusal, got %v", err)
				}
				for _, v := range tt.again {
					if len(v) > 20 && strings.Contains(err.Error(), v) && !strings.HasPrefix(v, "http") {
						t.Fatalf("the message repeats a secret setting: %v", err)
					}
				}
			})
		}
	}
}

// TestASealedKeyMovedToAnotherRowDoesNotOpen copies one provider key's ciphertext over
// another's with SQL: the vault status counts it as unopenable, and the moved key is
// not served, while the other keys still are.
func TestASealedKeyMovedToAnotherRowDoesNotOpen(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g, base := startWithBase(t, engine)
			keys := addStoredProvider(t, g, "stored", base, upstreamKey, storedKeys[0])
			db, err := store.Open(context.Background(), g.DB)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, err = db.SQL().ExecContext(context.Background(), db.Rebind(`UPDATE provider_keys
				SET secret = (SELECT secret FROM provider_keys WHERE id = ?) WHERE id = ?`), keys[0].ID, keys[1].ID)
			if err != nil {
				t.Fatal(err)
			}
			st := vaultStatus(t, g)
			if st.Unopenable != 1 || st.Unreadable != 0 {
				t.Fatalf("status after moving a ciphertext: %+v", st)
			}
			// A reload opens what it can and leaves the moved key out.
			g.admin(t, "PATCH", "/providers/stored", `{"headers":{"X-Reload":"1"}}`, 200, nil)
			if !strings.Contains(g.Logs.String(), keys[1].ID) || !strings.Contains(g.Logs.String(), "does not open") {
				t.Fatal("the unopenable key was not reported in the log")
			}
			checkNoSecretsInLogs(t, g)
		})
	}
}
