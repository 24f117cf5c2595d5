package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/app"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// rotKeys are keys a second fake upstream accepts, to tell which one a request used.
var rotKeys = []string{
	"sk-proj-ROTATIONoneDoNotUse0123456789abcdefghijklmn",
	"sk-proj-ROTATIONtwoDoNotUse0123456789abcdefghijklmn",
	"sk-proj-ROTATIONthreeDoNotUse0123456789abcdefghijkl",
	"sk-proj-ROTATIONfourDoNotUse0123456789abcdefghijklm",
}

// keysUsed sends n requests to model and counts the upstream keys they carried.
func keysUsed(t *testing.T, g *gateway, fake *fakellm.Server, model string, n int) map[string]int {
	t.Helper()
	fake.Reset()
	for range n {
		resp := g.post(t, "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", model, resp.StatusCode, body)
		}
	}
	used := map[string]int{}
	for _, r := range fake.Requests() {
		used[r.Key]++
	}
	return used
}

func keyByID(t *testing.T, g *gateway, provider, id string) admin.KeyView {
	t.Helper()
	var list struct{ Data []admin.KeyView }
	g.admin(t, "GET", "/providers/"+provider+"/keys", "", 200, &list)
	for _, k := range list.Data {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no key %s", id)
	return admin.KeyView{}
}

// TestProviderKeyRotationDrainsTheOldKey rotates a stored provider key with a grace
// period: the new key takes the traffic, the old one drains and is disabled when the
// grace ends; with grace 0s the old key stops at once.
func TestProviderKeyRotationDrainsTheOldKey(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	fake := fakellm.New(fakellm.Options{Keys: rotKeys, Models: []string{"*"}})
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	first := addStoredProvider(t, g, "rot", base, rotKeys[0])[0]
	g.admin(t, "POST", "/models", `{"name":"rot-model","targets":[{"provider":"rot","model":"gpt-4o-mini"}]}`, 201, nil)
	if used := keysUsed(t, g, fake, "rot-model", 5); used[rotKeys[0]] != 5 {
		t.Fatalf("before rotation: %v", used)
	}

	var second admin.KeyView
	g.admin(t, "POST", "/providers/rot/keys/"+first.ID+"/rotate", `{"secret":"`+rotKeys[1]+`","grace":"1h"}`, 201, &second)
	old := keyByID(t, g, "rot", first.ID)
	if old.Status != admin.KeyDraining || old.DrainUntil == nil || old.ReplacedBy != second.ID || second.Label != first.Label {
		t.Fatalf("after rotation: old %+v new %+v", old, second)
	}
	if used := keysUsed(t, g, fake, "rot-model", 40); used[rotKeys[1]] < 30 || used[rotKeys[0]]+used[rotKeys[1]] != 40 {
		t.Fatalf("during the grace the new key should take over: %v", used)
	}

	var third admin.KeyView
	g.admin(t, "POST", "/providers/rot/keys/"+second.ID+"/rotate", `{"secret":"`+rotKeys[2]+`","grace":"0s"}`, 201, &third)
	if k := keyByID(t, g, "rot", second.ID); k.Status != admin.KeyDisabled {
		t.Fatalf("grace 0s left the old key %s", k.Status)
	}
	if used := keysUsed(t, g, fake, "rot-model", 20); used[rotKeys[1]] != 0 {
		t.Fatalf("a key rotated with grace 0s was still used: %v", used)
	}

	var fourth admin.KeyView
	g.admin(t, "POST", "/providers/rot/keys/"+third.ID+"/rotate", `{"secret":"`+rotKeys[3]+`","grace":"300ms"}`, 201, &fourth)
	deadline := time.Now().Add(20 * time.Second) // A bound for a broken timer, not a speed check.
	for {
		k := keyByID(t, g, "rot", third.ID)
		used := keysUsed(t, g, fake, "rot-model", 10)
		if k.Status == admin.KeyDisabled && used[rotKeys[2]] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the old key was never retired: status %s, used %v", k.Status, used)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The retired keys stay retired after a reload; the first key still drains (1h).
	g.admin(t, "PATCH", "/providers/rot", `{"headers":{"X-Reload":"1"}}`, 200, nil)
	if used := keysUsed(t, g, fake, "rot-model", 10); used[rotKeys[1]]+used[rotKeys[2]] != 0 || used[rotKeys[3]] < 5 {
		t.Fatalf("after the grace: %v", used)
	}
	view := fmt.Sprint(keyByID(t, g, "rot", fourth.ID))
	for _, k := range rotKeys {
		if strings.Contains(view, k) || strings.Contains(g.Logs.String(), k) {
			t.Fatal("a key view or the log shows a provider key")
		}
	}
	checkNoSecretsInLogs(t, g)
}

// serveApp serves a on loopback until the test ends and returns its base URL.
func serveApp(t *testing.T, a *app.App) string {
	t.Helper()
	ln, err := app.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// TestTwoReplicasShareProvidersAndKEKs runs two gateways on one PostgreSQL database: a
// provider key disabled through one stops being used by the other, and a KEK rotation
// through one makes the other seal with the new KEK.
func TestTwoReplicasShareProvidersAndKEKs(t *testing.T) {
	url := storetest.URL(t, "postgres")
	keyFile := filepath.Join(t.TempDir(), "tollgate.key")
	env := map[string]string{"TOLLGATE_MASTER_KEY": randomMasterKey(), "TOLLGATE_ADMIN_TOKEN": adminToken}
	a, err := newApp(t, url, keyFile, env)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newApp(t, url, keyFile, env)
	if err != nil {
		t.Fatal(err)
	}
	ga, gb := &gateway{URL: serveApp(t, a), App: a}, &gateway{URL: serveApp(t, b), App: b}
	fake := fakellm.New(fakellm.Options{Keys: rotKeys, Models: []string{"*"}})
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	keys := addStoredProvider(t, ga, "shared", base, rotKeys[0], rotKeys[1])
	ga.admin(t, "POST", "/models", `{"name":"shared-model","targets":[{"provider":"shared","model":"gpt-4o-mini"}]}`, 201, nil)
	var created struct{ Key string }
	ga.admin(t, "POST", "/keys", `{"name":"replicas"}`, 201, &created)
	ga.Key, gb.Key = created.Key, created.Key

	eventually(t, "replica B serves both keys of the new provider", func() bool {
		used := keysUsedNoFail(gb, fake, "shared-model", 20)
		return used[rotKeys[0]] > 0 && used[rotKeys[1]] > 0
	})
	ga.admin(t, "PATCH", "/providers/shared/keys/"+keys[0].ID, `{"status":"disabled"}`, 200, nil)
	eventually(t, "replica B stops using the disabled key", func() bool {
		used := keysUsedNoFail(gb, fake, "shared-model", 20)
		return used[rotKeys[0]] == 0 && used[rotKeys[1]] == 20
	})

	var res admin.RotateResult
	ga.admin(t, "POST", "/vault/rotate", "{}", 200, &res)
	eventually(t, "replica B seals with the new KEK", func() bool { return b.Vault.CurrentKEK() == res.KEK.ID })
}

// eventually polls cond until it holds, failing after a generous bound meant for a
// broken system, not a slow one.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keysUsedNoFail is keysUsed for polling: failed requests count under "".
func keysUsedNoFail(g *gateway, fake *fakellm.Server, model string, n int) map[string]int {
	fake.Reset()
	failed := 0
	for range n {
		req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+g.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			failed++
		}
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	used := map[string]int{"": failed}
	for _, r := range fake.Requests() {
		used[r.Key]++
	}
	return used
}
