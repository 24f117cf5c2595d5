package app_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// faultyProvider adds a provider at the fake upstream whose requests carry fakellm
// fault headers, the way an operator's configured headers reach the upstream.
func faultyProvider(c *configs.Config, name string, headers map[string]string) {
	c.Providers = append(c.Providers, configs.Provider{Name: name, Type: "openai", BaseURL: c.Providers[0].BaseURL,
		Headers: headers, Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}})
}

// sse reads a whole event stream and returns its data payloads.
func sse(body io.Reader) []string {
	var out []string
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, p)
		}
	}
	return out
}

// TestFallbackHeaders checks that a 500 from the primary model falls back to the next
// model, and that the response headers name what served it and count every attempt.
func TestFallbackHeaders(t *testing.T) {
	zero := 0
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		faultyProvider(c, "broken", map[string]string{"X-Fake-Error-Status": "500"})
		c.Models = append(c.Models,
			configs.Model{Name: "primary", Retries: &zero, Fallbacks: []string{"gpt-4o-mini"},
				Targets: []configs.Target{{Provider: "broken", Model: "gpt-4o"}}})
	})
	for _, stream := range []bool{false, true} {
		body := fmt.Sprintf(`{"model":"primary","stream":%v,"messages":[{"role":"user","content":"hi"}]}`, stream)
		resp := g.post(t, "/v1/chat/completions", body, nil)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("x-tollgate-attempts") != "2" || h.Get("x-tollgate-provider") != "fake" ||
			h.Get("x-tollgate-model") != "gpt-4o-mini" {
			t.Fatalf("stream %v: status %d, headers provider=%q model=%q attempts=%q: %s", stream, resp.StatusCode,
				h.Get("x-tollgate-provider"), h.Get("x-tollgate-model"), h.Get("x-tollgate-attempts"), data)
		}
	}
}

// TestStreamEndsWithErrorEvent checks that a stream failing after its first byte ends
// with an SSE error event in OpenAI's shape and no [DONE] (an upstream error, or a
// stall past the idle timeout), and one failing before its first byte is served by the
// next target.
func TestStreamEndsWithErrorEvent(t *testing.T) {
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		faultyProvider(c, "cut", map[string]string{"X-Fake-Mode": "error_midstream", "X-Fake-Chunks": "6"})
		faultyProvider(c, "down", map[string]string{"X-Fake-Error-Status": "503"})
		faultyProvider(c, "stalls", map[string]string{"X-Fake-Chunk-Delay": "30s", "X-Fake-Chunks": "4"})
		c.Providers[len(c.Providers)-1].Timeout = configs.Duration(300 * time.Millisecond)
		c.Models = append(c.Models,
			configs.Model{Name: "stalled", Targets: []configs.Target{{Provider: "stalls", Model: "gpt-4o"}}},
			configs.Model{Name: "cut-model", Targets: []configs.Target{{Provider: "cut", Model: "gpt-4o"}}},
			configs.Model{Name: "failover", Strategy: "priority", Targets: []configs.Target{
				{Provider: "down", Model: "gpt-4o"}, {Provider: "fake", Model: "gpt-4o", Priority: 1}}})
	})
	resp := g.post(t, "/v1/chat/completions", `{"model":"cut-model","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	events := sse(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(events) < 2 || resp.Header.Get("x-tollgate-attempts") != "1" {
		t.Fatalf("status %d, %d events, attempts %q", resp.StatusCode, len(events), resp.Header.Get("x-tollgate-attempts"))
	}
	if slicesContain(events, "[DONE]") {
		t.Fatalf("a failed stream ended with [DONE]: %q", events)
	}
	decodeError(t, []byte(events[len(events)-1])) // fails unless the last event is an OpenAI-shaped error

	resp = g.post(t, "/v1/chat/completions", `{"model":"stalled","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	events = sse(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(events) < 2 || decodeError(t, []byte(events[len(events)-1])) != "upstream_timeout" {
		t.Fatalf("a stalled stream: status %d, events %q", resp.StatusCode, events)
	}

	resp = g.post(t, "/v1/chat/completions", `{"model":"failover","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	events = sse(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || events[len(events)-1] != "[DONE]" || resp.Header.Get("x-tollgate-provider") != "fake" ||
		resp.Header.Get("x-tollgate-attempts") != "2" {
		t.Fatalf("failover: status %d, provider %q, attempts %q, events %q", resp.StatusCode,
			resp.Header.Get("x-tollgate-provider"), resp.Header.Get("x-tollgate-attempts"), events)
	}
}

// chatMany sends n chat requests for model, each of which must succeed, and counts
// the upstream models that served them.
func chatMany(t *testing.T, g *gateway, model string, n int) map[string]int {
	t.Helper()
	served := map[string]int{}
	for i := range n {
		st, m := chatModel(t, g, model)
		if st != 200 {
			t.Fatalf("%s request %d: status %d", model, i, st)
		}
		served[m]++
	}
	return served
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestRevokedConfigKeyDisabled checks that a config key the upstream rejects is taken
// out of rotation, audited by id (never by value), shown as disabled, and that its
// sibling serves every request.
func TestRevokedConfigKeyDisabled(t *testing.T) {
	revoked := filepath.Join(t.TempDir(), "revoked-key")
	os.WriteFile(revoked, []byte("sk-proj-REVOKEDkeyDoNotUse0123456789abcdefghij"), 0o600)
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		c.Providers[0].Keys = []configs.ProviderKey{{Secret: configs.FileRef(revoked), Weight: 5, Label: "old"},
			{Secret: configs.EnvRef("FAKE_OPENAI_KEY"), Label: "new"}}
	})
	chatMany(t, g, "gpt-4o-mini", 20)
	if n := rejected(g.Fake); n != 1 {
		t.Fatalf("the revoked key was sent upstream %d times, want once", n)
	}
	var page audit.Page
	g.admin(t, "GET", "/audit?action=provider_key.disable", "", 200, &page)
	if len(page.Data) != 1 || page.Data[0].Target != "provider_key:fake#0" || page.Data[0].ActorID != "system" {
		t.Fatalf("audit: %+v", page.Data)
	}
	var m admin.ModelView
	g.admin(t, "GET", "/models/gpt-4o-mini", "", 200, &m)
	if ks := m.Targets[0].Health.Keys; len(ks) != 2 || ks[0].State != "disabled" || ks[1].State != "active" {
		t.Fatalf("key health: %+v", ks)
	}
	if strings.Contains(g.Logs.String(), "REVOKEDkey") {
		t.Fatal("the revoked key's value reached the log")
	}
}

// rejected counts the upstream requests that carried a key the fake refused.
func rejected(f *fakellm.Server) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Key != upstreamKey {
			n++
		}
	}
	return n
}

// TestRevokedStoredKeyDisabled checks that a stored provider key the upstream rejects
// gets status disabled in the store (every replica stops using it), and that its
// sibling serves.
func TestRevokedStoredKeyDisabled(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g, base := startWithBase(t, engine)
			keys := addStoredProvider(t, g, "stored", base, "sk-proj-REVOKEDstoredKEYdoNotUse0123456789abcd", upstreamKey)
			g.admin(t, "POST", "/models", `{"name":"via-stored","targets":[{"provider":"stored","model":"gpt-4o"}]}`, 201, nil)
			chatMany(t, g, "via-stored", 20)
			var list struct{ Data []admin.KeyView }
			g.admin(t, "GET", "/providers/stored/keys", "", 200, &list)
			status := map[string]string{}
			for _, k := range list.Data {
				status[k.ID] = k.Status
			}
			if status[keys[0].ID] != admin.KeyDisabled || status[keys[1].ID] != admin.KeyActive || rejected(g.Fake) != 1 {
				t.Fatalf("key statuses %v; the revoked key was sent %d times", status, rejected(g.Fake))
			}
		})
	}
}

// TestLowestCostUsesCatalog checks that lowest_cost ranks targets by the pricing
// catalog, and that a price override in the config outranks the catalog.
func TestLowestCostUsesCatalog(t *testing.T) {
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		c.Models = append(c.Models,
			configs.Model{Name: "cheapest", Strategy: "lowest_cost", Targets: []configs.Target{
				{Provider: "fake", Model: "gpt-4o"}, {Provider: "fake", Model: "gpt-4o-mini"}}},
			configs.Model{Name: "overridden", Strategy: "lowest_cost", Targets: []configs.Target{
				{Provider: "fake", Model: "gpt-4o", Pricing: &configs.Pricing{InputPerMTok: "0.01", OutputPerMTok: "0.01"}},
				{Provider: "fake", Model: "gpt-4o-mini"}}})
	})
	for model, want := range map[string]string{"cheapest": "gpt-4o-mini", "overridden": "gpt-4o"} {
		if served := chatMany(t, g, model, 10); len(served) != 1 || served[want] != 10 {
			t.Fatalf("%s: served by %v, want only %s", model, served, want)
		}
	}
}
