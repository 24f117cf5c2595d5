package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/configs"
)

func TestAuthFailuresAreSlowedPerAddress(t *testing.T) {
	g := startGateway(t, "sqlite", func(c *configs.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
	bad := "tgk_" + strings.Repeat("A", 12) + "_" + strings.Repeat("B", 38)
	var r reply
	for i := range 40 {
		if r = g.chat(t, bad, "gpt-4o-mini", from("198.51.100.7")); r.status == 429 {
			if i < 20 {
				t.Fatalf("throttled after %d failures", i)
			}
			break
		}
	}
	expect(t, "repeated failures", r, 429, "rate_limit_exceeded")
	if s, err := strconv.Atoi(r.header.Get("retry-after")); err != nil || s < 1 {
		t.Fatalf("retry-after %q", r.header.Get("retry-after"))
	}
	expect(t, "a good key from the throttled address", g.chat(t, g.Key, "gpt-4o-mini", from("198.51.100.7")), 429, "rate_limit_exceeded")
	expect(t, "a good key from another address", g.chat(t, g.Key, "gpt-4o-mini", from("198.51.100.8")), 200, "")

	for range 20 {
		g.call(t, "GET", "/admin/v1/keys", "not-a-token", "", from("198.51.100.9"))
	}
	expect(t, "repeated admin failures", g.call(t, "GET", "/admin/v1/keys", adminToken, "", from("198.51.100.9")),
		429, "rate_limit_exceeded")
	expect(t, "admin from another address", g.call(t, "GET", "/admin/v1/keys", adminToken, "", from("198.51.100.10")), 200, "")
}

// TestLifecycleSecretsNeverLogged drives every key lifecycle path, failures included,
// and checks that neither the log nor the database files hold any key or token.
func TestLifecycleSecretsNeverLogged(t *testing.T) {
	g := startGateway(t, "sqlite", func(c *configs.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	secrets := map[string]string{"bootstrap admin token": adminToken, "harness key": g.Key}
	id, key := g.createKey(t, `{"name":"all","can_mint":true,"models":["gpt-*"]}`)
	secrets["client key"] = key
	var rot struct{ Key string }
	g.admin(t, "POST", "/keys/"+id+"/rotate", `{"grace":"1h"}`, 200, &rot)
	secrets["rotated key"] = rot.Key
	var child struct{ Key string }
	json.Unmarshal(g.mint(t, rot.Key, `{"max_requests":1,"models":["gpt-4o-mini"]}`).body, &child)
	secrets["child key"] = child.Key
	var tok struct{ Token string }
	g.admin(t, "POST", "/admin-tokens", `{"name":"ops","role":"viewer"}`, 201, &tok)
	secrets["admin token"] = tok.Token

	for _, k := range []string{key, rot.Key, child.Key, child.Key, key + "x", "Bearer " + key} {
		g.chat(t, k, "gpt-4o-mini", nil)
		g.chat(t, k, "chat-model", nil)
	}
	g.call(t, "GET", "/v1/key", rot.Key, "", nil)
	g.call(t, "POST", "/admin/v1/keys", tok.Token, `{"name":"viewer tries"}`, nil)
	g.call(t, "GET", "/admin/v1/keys", key, "", nil)
	g.call(t, "POST", "/admin/v1/keys", adminToken, `{"name":"x","`+key+`":1}`, nil)
	g.call(t, "POST", "/v1/keys/ephemeral", child.Key, `{}`, nil)
	g.admin(t, "POST", "/keys/revoke", `{"created_by":"bootstrap"}`, 200, nil)
	g.chat(t, rot.Key, "gpt-4o-mini", nil)
	for range 25 {
		g.call(t, "GET", "/admin/v1/keys", tok.Token+"x", "", map[string]string{"X-Forwarded-For": "203.0.113.1"})
	}
	g.App.Store.SQL().Exec("PRAGMA wal_checkpoint(FULL)")

	logs := g.Logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatal("no access log lines were captured")
	}
	files, _ := filepath.Glob(strings.TrimPrefix(g.DB, "sqlite:") + "*")
	for name, s := range secrets {
		secretPart := s[len(s)-38:] // the random secret and checksum, without the public id
		if strings.Contains(logs, secretPart) {
			t.Errorf("the log holds the %s", name)
		}
		for _, f := range files {
			data, _ := os.ReadFile(f)
			if strings.Contains(string(data), secretPart) {
				t.Errorf("%s holds the %s", filepath.Base(f), name)
			}
		}
		if len(secretPart) != 38 || name == "" {
			t.Fatalf("%s is not a key", name)
		}
	}
}
