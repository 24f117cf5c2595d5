package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// chatBody is a small chat request for model.
func chatBody(model string) string {
	return `{"model":"` + model + `","messages":[{"role":"user","content":"hi"}]}`
}

// testClock is a settable clock for App.SetKeyClock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// withClock moves the gateway's key lifecycle onto a clock the test controls.
func withClock(g *gateway) *testClock {
	c := &testClock{t: time.Now().UTC()}
	g.App.SetKeyClock(c.now)
	return c
}

// reply is an answer: status, body and the error code when there is one.
type reply struct {
	status int
	body   []byte
	code   string
	header http.Header
}

// call sends a request with the key (client key or admin token) and extra headers.
func (g *gateway) call(t testing.TB, method, path, key, body string, header map[string]string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, g.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, body: data, header: resp.Header}
	if resp.StatusCode >= 400 && len(data) > 0 {
		r.code = decodeError(t, data)
	}
	return r
}

// chat sends a chat request with key and returns the answer.
func (g *gateway) chat(t testing.TB, key, model string, header map[string]string) reply {
	t.Helper()
	return g.call(t, "POST", "/v1/chat/completions", key, chatBody(model), header)
}

// expect fails unless r has the status and code.
func expect(t testing.TB, what string, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.code != code {
		t.Fatalf("%s: got %d %q, want %d %q: %s", what, r.status, r.code, status, code, r.body)
	}
}

// createKey creates a client key through the admin API and returns its id and key.
func (g *gateway) createKey(t testing.TB, body string) (id, key string) {
	t.Helper()
	var v struct{ ID, Key string }
	g.admin(t, "POST", "/keys", body, 201, &v)
	return v.ID, v.Key
}

func TestScopesThroughTheAPI(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g := startGateway(t, engine, nil)
			_, key := g.createKey(t, `{"name":"scoped","models":["gpt-4o*"],"endpoints":["chat","models"]}`)
			expect(t, "in-scope model", g.chat(t, key, "gpt-4o-mini", nil), 200, "")
			expect(t, "out-of-scope model", g.chat(t, key, "chat-model", nil), 403, "model_not_allowed")
			expect(t, "out-of-scope endpoint", g.call(t, "POST", "/v1/embeddings", key,
				`{"model":"gpt-4o-mini","input":"x"}`, nil), 403, "endpoint_not_allowed")
			var models struct{ Data []struct{ ID string } }
			r := g.call(t, "GET", "/v1/models", key, "", nil)
			json.Unmarshal(r.body, &models)
			if len(models.Data) != 1 || models.Data[0].ID != "gpt-4o-mini" {
				t.Fatalf("/v1/models shows %s", r.body)
			}
			expect(t, "hidden model", g.call(t, "GET", "/v1/models/chat-model", key, "", nil), 404, "model_not_found")
		})
	}
}

func TestIPRulesThroughTheAPI(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		g := startGateway(t, "sqlite", nil)
		_, far := g.createKey(t, `{"name":"office","allowed_ips":["10.0.0.0/8","2001:db8::/32"]}`)
		_, near := g.createKey(t, `{"name":"local","allowed_ips":["127.0.0.1/32"]}`)
		expect(t, "outside allowed_ips", g.chat(t, far, "gpt-4o-mini", nil), 403, "ip_not_allowed")
		expect(t, "inside allowed_ips", g.chat(t, near, "gpt-4o-mini", nil), 200, "")
		// Without a trusted proxy, X-Forwarded-For is not believed.
		expect(t, "spoofed forwarded-for", g.chat(t, far, "gpt-4o-mini",
			map[string]string{"X-Forwarded-For": "10.1.2.3"}), 403, "ip_not_allowed")
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		g := startGateway(t, "sqlite", func(c *configs.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
		_, far := g.createKey(t, `{"name":"office","allowed_ips":["10.0.0.0/8","2001:db8::/32"]}`)
		for ip, want := range map[string]int{"10.1.2.3": 200, "192.0.2.5": 403, "2001:db8::7": 200, "2001:db9::7": 403} {
			r := g.chat(t, far, "gpt-4o-mini", map[string]string{"X-Forwarded-For": ip})
			if r.status != want {
				t.Errorf("client %s: %d, want %d: %s", ip, r.status, want, r.body)
			}
		}
	})
}

func TestTimeRulesThroughTheAPI(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	clk := withClock(g)
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

	_, office := g.createKey(t, `{"name":"office","allowed_hours":"09:00-17:00 America/New_York"}`)
	clk.set(day.Add(15 * time.Hour)) // 10:00 in New York
	expect(t, "within the hours", g.chat(t, office, "gpt-4o-mini", nil), 200, "")
	clk.set(day.Add(23 * time.Hour)) // 18:00 in New York
	expect(t, "after the hours", g.chat(t, office, "gpt-4o-mini", nil), 403, "outside_allowed_hours")

	_, short := g.createKey(t, `{"name":"short","ttl":"1h"}`)
	expect(t, "before expiry", g.chat(t, short, "gpt-4o-mini", nil), 200, "")
	clk.add(time.Hour)
	expect(t, "at expiry", g.chat(t, short, "gpt-4o-mini", nil), 401, "expired_api_key")
	_, past := g.createKey(t, `{"name":"past","expires_at":"2020-01-01T00:00:00Z"}`)
	expect(t, "expires_at in the past", g.chat(t, past, "gpt-4o-mini", nil), 401, "expired_api_key")
}

func TestRevocationAndStatusThroughTheAPI(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g := startGateway(t, engine, nil)
			id, key := g.createKey(t, `{"name":"app"}`)
			expect(t, "active", g.chat(t, key, "gpt-4o-mini", nil), 200, "")
			g.admin(t, "POST", "/keys/"+id+"/disable", "", 200, nil)
			expect(t, "disabled", g.chat(t, key, "gpt-4o-mini", nil), 401, "invalid_api_key")
			g.admin(t, "POST", "/keys/"+id+"/enable", "", 200, nil)
			expect(t, "enabled again", g.chat(t, key, "gpt-4o-mini", nil), 200, "")
			var v struct{ Status, RevokeReason string }
			g.admin(t, "POST", "/keys/"+id+"/revoke", `{"reason":"leaked in a log"}`, 200, &v)
			expect(t, "the next request after revocation", g.chat(t, key, "gpt-4o-mini", nil), 401, "revoked_api_key")
			g.admin(t, "POST", "/keys/"+id+"/enable", "", 409, nil)
			g.admin(t, "DELETE", "/keys/"+id, "", 204, nil)
			g.admin(t, "GET", "/keys/"+id, "", 404, nil)
			expect(t, "deleted", g.chat(t, key, "gpt-4o-mini", nil), 401, "invalid_api_key")
		})
	}
}

func TestRotationGraceThroughTheAPI(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	clk := withClock(g)
	id, old := g.createKey(t, `{"name":"svc","models":["gpt-4o*"],"metadata":{"team":"a"}}`)
	var rotated struct {
		ID, Key string
		Models  []string
	}
	g.admin(t, "POST", "/keys/"+id+"/rotate", `{"grace":"24h"}`, 200, &rotated)
	if rotated.ID != id || rotated.Key == old || len(rotated.Models) != 1 {
		t.Fatalf("rotation answer %+v", rotated)
	}
	clk.add(24*time.Hour - time.Second)
	expect(t, "old secret in the grace", g.chat(t, old, "gpt-4o-mini", nil), 200, "")
	expect(t, "new secret", g.chat(t, rotated.Key, "gpt-4o-mini", nil), 200, "")
	expect(t, "new secret keeps the scopes", g.chat(t, rotated.Key, "chat-model", nil), 403, "model_not_allowed")
	clk.add(time.Second)
	expect(t, "old secret after the grace", g.chat(t, old, "gpt-4o-mini", nil), 401, "invalid_api_key")
	expect(t, "new secret after the grace", g.chat(t, rotated.Key, "gpt-4o-mini", nil), 200, "")

	var again struct{ Key string }
	g.admin(t, "POST", "/keys/"+id+"/rotate", `{"grace":"0s"}`, 200, &again)
	expect(t, "grace 0s", g.chat(t, rotated.Key, "gpt-4o-mini", nil), 401, "invalid_api_key")
	expect(t, "newest secret", g.chat(t, again.Key, "gpt-4o-mini", nil), 200, "")
}

// mint mints a child of parent and returns the answer.
func (g *gateway) mint(t testing.TB, parent, body string) reply {
	t.Helper()
	return g.call(t, "POST", "/v1/keys/ephemeral", parent, body, nil)
}

func TestEphemeralKeysThroughTheAPI(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	parentID, parent := g.createKey(t, `{"name":"backend","models":["gpt-*"],"can_mint":true,"ttl":"1h",`+
		`"budget":{"limit_usd":5,"period":"month"}}`)
	expect(t, "a key without can_mint", g.mint(t, g.Key, `{}`), 403, "mint_not_allowed")
	expect(t, "wider models", g.mint(t, parent, `{"models":["*"]}`), 403, "model_not_allowed")
	expect(t, "other models", g.mint(t, parent, `{"models":["chat-model"]}`), 403, "model_not_allowed")
	expect(t, "more budget", g.mint(t, parent, `{"max_cost_usd":5.01}`), 400, "invalid_value")
	expect(t, "past the parent's expiry", g.mint(t, parent, `{"ttl":"2h"}`), 400, "invalid_value")
	expect(t, "ttl over 2h", g.mint(t, parent, `{"ttl":"3h"}`), 400, "invalid_value")

	r := g.mint(t, parent, `{"models":["gpt-4o-mini"],"max_cost_usd":1,"ttl":"10m"}`)
	expect(t, "mint", r, 201, "")
	var child struct {
		ID, Key   string
		ExpiresAt time.Time `json:"expires_at"`
	}
	json.Unmarshal(r.body, &child)
	if !strings.HasPrefix(child.Key, "tge_") || time.Until(child.ExpiresAt) > 10*time.Minute {
		t.Fatalf("child %s", r.body)
	}
	expect(t, "child in scope", g.chat(t, child.Key, "gpt-4o-mini", nil), 200, "")
	// In the parent's scope, not in the child's.
	expect(t, "child out of scope", g.chat(t, child.Key, "gpt-3.5-turbo-instruct", nil), 403, "model_not_allowed")
	expect(t, "child mints", g.mint(t, child.Key, `{}`), 403, "mint_not_allowed")
	var self struct {
		ParentID string `json:"parent_id"`
		Budget   struct {
			LimitUSD json.Number `json:"limit_usd"`
		}
	}
	json.Unmarshal(g.call(t, "GET", "/v1/key", child.Key, "", nil).body, &self)
	if self.ParentID != parentID || self.Budget.LimitUSD != "1" {
		t.Fatalf("child's /v1/key: %+v", self)
	}

	single := g.mint(t, parent, `{"max_requests":1}`)
	var one struct{ Key string }
	json.Unmarshal(single.body, &one)
	expect(t, "single use, first", g.chat(t, one.Key, "gpt-4o-mini", nil), 200, "")
	expect(t, "single use, second", g.chat(t, one.Key, "gpt-4o-mini", nil), 401, "expired_api_key")

	g.admin(t, "POST", "/keys/"+parentID+"/revoke", `{}`, 200, nil)
	expect(t, "child of a revoked parent", g.chat(t, child.Key, "gpt-4o-mini", nil), 401, "revoked_api_key")
}

func TestCurrentKey(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	_, key := g.createKey(t, `{"name":"me","project":"web","models":["gpt-4o*"],"ttl":"24h",`+
		`"limits":{"rpm":60},"budget":{"limit_usd":"12.50","period":"month"}}`)
	r := g.call(t, "GET", "/v1/key", key, "", nil)
	expect(t, "GET /v1/key", r, 200, "")
	if strings.Contains(string(r.body), key[17:]) {
		t.Fatal("GET /v1/key shows the secret")
	}
	var v map[string]json.RawMessage
	json.Unmarshal(r.body, &v)
	for _, f := range []string{"id", "name", "project", "models", "endpoints", "limits", "expires_at", "spend_usd", "budget"} {
		if _, ok := v[f]; !ok {
			t.Errorf("GET /v1/key lacks %q: %s", f, r.body)
		}
	}
	var b struct {
		LimitUSD     json.RawMessage `json:"limit_usd"`
		SpentUSD     json.RawMessage `json:"spent_usd"`
		RemainingUSD json.RawMessage `json:"remaining_usd"`
		ResetsAt     json.RawMessage `json:"resets_at"`
	}
	json.Unmarshal(v["budget"], &b)
	if string(b.LimitUSD) != "12.5" || string(b.SpentUSD) != "0" || string(b.RemainingUSD) != "12.5" ||
		len(b.ResetsAt) < 10 {
		t.Fatalf("budget %s", v["budget"])
	}
}

func TestAdminTokensAndRoles(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	tokens := map[string]string{}
	for _, role := range []string{"admin", "viewer"} {
		var v struct{ ID, Token string }
		g.admin(t, "POST", "/admin-tokens", fmt.Sprintf(`{"name":"%s-bot","role":"%s"}`, role, role), 201, &v)
		tokens[role], tokens[role+"-id"] = v.Token, v.ID
	}
	expect(t, "viewer reads", g.call(t, "GET", "/admin/v1/keys", tokens["viewer"], "", nil), 200, "")
	expect(t, "viewer writes", g.call(t, "POST", "/admin/v1/keys", tokens["viewer"], `{"name":"x"}`, nil),
		403, "insufficient_role")
	expect(t, "admin token writes", g.call(t, "POST", "/admin/v1/keys", tokens["admin"], `{"name":"x"}`, nil), 201, "")
	expect(t, "client key on the admin API", g.call(t, "GET", "/admin/v1/keys", g.Key, "", nil), 401, "invalid_api_key")
	expect(t, "admin token on the client API", g.chat(t, tokens["admin"], "gpt-4o-mini", nil), 401, "invalid_api_key")
	var list struct{ Data []map[string]any }
	g.admin(t, "GET", "/admin-tokens", "", 200, &list)
	if len(list.Data) != 2 || list.Data[0]["token"] != nil {
		t.Fatalf("token list %+v", list.Data)
	}
	g.admin(t, "DELETE", "/admin-tokens/"+tokens["admin-id"], "", 204, nil)
	expect(t, "deleted admin token", g.call(t, "GET", "/admin/v1/keys", tokens["admin"], "", nil), 401, "invalid_api_key")
}

func TestProjectsAndBulkRevoke(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	g.admin(t, "POST", "/projects", `{"name":"web","limits":{"rpm":100},"budget":{"limit_usd":50,"period":"month"}}`, 201, nil)
	g.admin(t, "POST", "/projects", `{"name":"web"}`, 409, nil)
	g.admin(t, "PATCH", "/projects/web", `{"limits":null}`, 200, nil)
	var p struct {
		Limits *struct{ RPM int }
		Budget struct {
			LimitUSD json.Number `json:"limit_usd"`
		}
	}
	g.admin(t, "GET", "/projects/web", "", 200, &p)
	if p.Limits != nil || p.Budget.LimitUSD != "50" {
		t.Fatalf("project after patch %+v", p)
	}
	_, k1 := g.createKey(t, `{"name":"a","project":"web","owner":"alice"}`)
	_, k2 := g.createKey(t, `{"name":"b","project":"web","owner":"bob"}`)
	g.admin(t, "DELETE", "/projects/web", "", 409, nil)
	var res struct{ Revoked int }
	g.admin(t, "POST", "/keys/revoke", `{"owner":"alice","reason":"laptop stolen"}`, 200, &res)
	if res.Revoked != 1 {
		t.Fatalf("revoked %d keys of alice", res.Revoked)
	}
	expect(t, "alice's key", g.chat(t, k1, "gpt-4o-mini", nil), 401, "revoked_api_key")
	expect(t, "bob's key", g.chat(t, k2, "gpt-4o-mini", nil), 200, "")
	g.admin(t, "POST", "/keys/revoke", `{"project":"web"}`, 200, &res)
	expect(t, "bob's key after the project's revocation", g.chat(t, k2, "gpt-4o-mini", nil), 401, "revoked_api_key")
	g.admin(t, "DELETE", "/projects/web", "", 204, nil)
	g.admin(t, "POST", "/keys/revoke", `{}`, 400, nil)
	var keysList struct{ Data []struct{ Status string } }
	g.admin(t, "GET", "/keys?project=web&status=revoked", "", 200, &keysList)
	if len(keysList.Data) != 2 {
		t.Fatalf("revoked keys of web: %+v", keysList.Data)
	}
}
