package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/keys"
)

// writeFile writes content to root/name.
func writeFile(t *testing.T, root, name, content string) string {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// callWithKey calls GET /v1/models with key and returns the status and error code.
func callWithKey(t *testing.T, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", os.Getenv("TOLLGATE_URL")+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error struct{ Code string } }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error.Code
}

func TestScanExitCodes(t *testing.T) {
	clean := t.TempDir()
	writeFile(t, clean, "README.md", "nothing to see; tgk_ is the client key prefix\n")
	key, _, _ := keys.Generate(keys.KindClient)
	leaky := t.TempDir()
	p := writeFile(t, leaky, "app/.env", "# app\nTOLLGATE_KEY="+key+"\n")

	out, err := run(t, scanCmd(), "", clean)
	if err != nil || !strings.Contains(out, "0 secrets found") {
		t.Fatalf("clean tree: %v\n%s", err, out)
	}
	out, err = run(t, scanCmd(), "", leaky)
	if exitCode(err) != scanFound || !strings.Contains(out, p+":2:14: tollgate_client_key "+key[:17]+"…") {
		t.Fatalf("leaky tree: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	if strings.Contains(out, key[17:]) {
		t.Fatal("the output holds the secret")
	}
	var js scanOutput
	out, err = run(t, scanCmd(), "", "--json", leaky)
	if exitCode(err) != scanFound || json.Unmarshal([]byte(out), &js) != nil || len(js.Findings) != 1 ||
		js.Findings[0].KeyID != key[4:16] || js.Stats.Files != 1 {
		t.Fatalf("--json: exit %d\n%s", exitCode(err), out)
	}
	for name, args := range map[string][]string{
		"no path":             {},
		"missing path":        {filepath.Join(clean, "nope")},
		"bad flag":            {"--no-such-flag", clean},
		"history, no repo":    {"--git", leaky},
		"revoke without auth": {"--revoke", leaky},
	} {
		t.Setenv("TOLLGATE_ADMIN_TOKEN", "")
		out, err := run(t, scanCmd(), "", args...)
		if exitCode(err) != scanNotFinal {
			t.Errorf("%s: exit %d (%v)\n%s", name, exitCode(err), err, out)
		}
	}
}

// TestScanRevoke plants a client key (with an ephemeral child minted from it), an
// admin token and a key the gateway never issued, runs scan --revoke against a
// running gateway, and expects the first three to stop working at once, with the
// reason recorded, and the unknown one reported as not found.
func TestScanRevoke(t *testing.T) {
	startCLIGateway(t, "sqlite")
	var parent, bystander cliKey
	runJSON(t, keysCmd(), &parent, "create", "--name", "leaky", "--can-mint")
	runJSON(t, keysCmd(), &bystander, "create", "--name", "bystander")
	child := mintChild(t, parent.Key)
	var token struct{ ID, Token string }
	runJSON(t, adminTokensCmd(), &token, "create", "--name", "ci", "--role", "viewer")
	unknown, unknownID, _ := keys.Generate(keys.KindClient)

	root := t.TempDir()
	env := writeFile(t, root, "deploy/.env", "KEY="+parent.Key+"\n")
	writeFile(t, root, "src/config.json", `{"key": "`+parent.Key+`", "old": "`+unknown+`"}`)
	writeFile(t, root, "ci/token", token.Token)

	out, err := run(t, scanCmd(), "", "--revoke", root)
	if exitCode(err) != scanFound {
		t.Fatalf("exit %d (%v)\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"revoked " + parent.ID, "not_found " + unknownID, "deleted " + token.ID} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{parent.Key, unknown, token.Token, child} {
		if strings.Contains(out, secret[17:]) {
			t.Fatal("the output holds a secret")
		}
	}
	var got struct {
		Status       string
		RevokeReason string `json:"revoke_reason"`
	}
	runJSON(t, keysCmd(), &got, "get", parent.ID)
	if got.Status != "revoked" || got.RevokeReason != "leaked: found by tollgate scan in "+env {
		t.Errorf("after --revoke: %+v", got)
	}
	for name, key := range map[string]string{"parent": parent.Key, "child": child} {
		if status, code := callWithKey(t, key); status != 401 || code != "revoked_api_key" {
			t.Errorf("%s key after --revoke: %d %s", name, status, code)
		}
	}
	if status, _ := callWithKey(t, bystander.Key); status != 200 {
		t.Errorf("a key not found by the scan answers %d", status)
	}
	if list := mustRun(t, adminTokensCmd(), "", "list"); strings.Contains(list, token.ID) {
		t.Errorf("the leaked admin token is still listed:\n%s", list)
	}
	out, err = run(t, scanCmd(), "", "--revoke", root)
	if exitCode(err) != scanFound || !strings.Contains(out, "revoked "+parent.ID) {
		t.Fatalf("second --revoke: exit %d\n%s", exitCode(err), out)
	}
}

// mintChild mints an ephemeral key from parent through the client API.
func mintChild(t *testing.T, parent string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", os.Getenv("TOLLGATE_URL")+"/v1/keys/ephemeral", strings.NewReader(`{"ttl":"10m"}`))
	req.Header.Set("Authorization", "Bearer "+parent)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Key string }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || !strings.HasPrefix(m.Key, "tge_") {
		t.Fatalf("mint: %d %v", resp.StatusCode, err)
	}
	return m.Key
}
