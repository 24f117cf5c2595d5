package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tollgate-llm/tollgate/app"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// Provider keys of every dialect under test. They have the real shapes, so that a leak
// would be caught by shape as well as by value.
const (
	geminiKey      = "AIzaSyTESTgeminiKEYdoNotUse0123456789"
	wrongGeminiKey = "AIzaSyWRONGgeminiKEYdoNotUse012345678"
	anthropicKey   = "sk-ant-api03-TESTanthropicKEYdoNotUse0123456789abcdef"
	echoedKey      = "sk-proj-ECHOEDbyUPSTREAMdoNotUse0123456789abcdef"
	storedKey      = "sk-proj-STOREDviaADMINapiDoNotUse0123456789abcd"
)

// echoUpstream speaks OpenAI's dialect and, like a careless provider, repeats the key
// it was sent in its error messages: a 401 for the model "echo-401", a 400 otherwise.
func echoUpstream(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status := http.StatusBadRequest
		if strings.Contains(string(body), `"echo-401"`) {
			status = http.StatusUnauthorized
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// startObserved runs the real gateway with every dialect's key configured, a request
// log file in dir, and an in-memory span exporter. stop drains and closes it.
func startObserved(t *testing.T) (g *gateway, spans *tracetest.InMemoryExporter, dir string, stop func()) {
	t.Helper()
	fake := fakellm.New(fakellm.Options{Keys: []string{upstreamKey, geminiKey, anthropicKey}, Models: []string{"*"}})
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	origin := strings.TrimSuffix(base, "/v1")
	dir = t.TempDir()
	ref := configs.EnvRef
	provider := func(name, typ, url, env string) configs.Provider {
		return configs.Provider{Name: name, Type: typ, BaseURL: url, Keys: []configs.ProviderKey{{Secret: ref(env)}}}
	}
	route := func(name, provider, model string) configs.Model {
		return configs.Model{Name: name, Targets: []configs.Target{{Provider: provider, Model: model}}}
	}
	retries := 0
	cfg := &configs.Config{Listen: "127.0.0.1:0", DatabaseURL: storetest.URL(t, "sqlite"),
		TrustedProxies: []string{"127.0.0.1"},
		Providers: []configs.Provider{provider("fake", "openai", base, "FAKE_OPENAI_KEY"),
			provider("gem", "gemini", origin, "GEMINI_KEY"), provider("gem-bad", "gemini", origin, "WRONG_GEMINI_KEY"),
			provider("claude", "anthropic", origin, "ANTHROPIC_KEY"), provider("echo", "openai", echoUpstream(t), "ECHO_KEY")},
		Models: []configs.Model{route("gpt-4o-mini", "fake", "gpt-4o-mini"), route("gemini", "gem", "gemini-2.5-flash"),
			route("gemini-bad", "gem-bad", "gemini-2.5-flash"), route("claude", "claude", "claude-sonnet-4-5"),
			route("echo-401", "echo", "echo-401"), route("echo-400", "echo", "echo-400"),
			route("text-embedding-3-small", "fake", "text-embedding-3-small")}}
	for i := range cfg.Models {
		cfg.Models[i].Retries = &retries
	}
	cfg.Billing.SpillDir = t.TempDir()
	cfg.Export.File.Path = filepath.Join(dir, "requests.jsonl")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FAKE_OPENAI_KEY": upstreamKey, "GEMINI_KEY": geminiKey, "WRONG_GEMINI_KEY": wrongGeminiKey,
		"ANTHROPIC_KEY": anthropicKey, "ECHO_KEY": echoedKey, "TOLLGATE_ADMIN_TOKEN": adminToken}
	spans = tracetest.NewInMemoryExporter()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg, Getenv: func(k string) string { return env[k] },
		Log: telemetry.NewLogger(logs, telemetry.ParseLevel("debug")), Notice: logs,
		KeyFile: filepath.Join(t.TempDir(), "tollgate.key"), TraceExporter: spans})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := app.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			a.Close()
		})
	}
	t.Cleanup(stop)
	return &gateway{URL: "http://" + ln.Addr().String(), Fake: fake, App: a, Logs: logs, DB: cfg.DatabaseURL}, spans, dir, stop
}

// wellFormed makes a key that passes the format and checksum checks but was never
// issued.
func wellFormed(kind, fill string) string {
	body := kind + "_" + strings.Repeat("Q", 12) + "_" + strings.Repeat(fill, 32)
	return body + keys.Checksum(body)
}

func TestNoSecretReachesAnySink(t *testing.T) {
	g, spans, dir, stop := startObserved(t)
	secrets := map[string]string{"admin token": adminToken, "OpenAI upstream key": upstreamKey,
		"Gemini key": geminiKey, "wrong Gemini key": wrongGeminiKey, "Anthropic key": anthropicKey,
		"echoed upstream key": echoedKey, "provider key added through the API": storedKey}
	clientVisible := drive(t, g, secrets)
	sinks := map[string]string{"metrics": string(g.call(t, "GET", "/metrics", "", "", nil).body),
		"audit log": string(g.call(t, "GET", "/admin/v1/audit?limit=1000", adminToken, "", nil).body),
		"GET /logs": spendLog(t, g), "traces": dumpSpans(t, spans)}
	stop() // drains: the request log is flushed on the way out
	sinks["log"], sinks["request log"] = g.Logs.String(), readDir(t, dir)
	checkSinksHaveContent(t, sinks)
	for sink, text := range sinks {
		for name, s := range secrets {
			for _, part := range secretParts(s) {
				if strings.Contains(text, part) {
					t.Errorf("the %s holds the %s", sink, name)
				}
			}
		}
	}
	for _, body := range clientVisible {
		for _, name := range []string{"OpenAI upstream key", "Gemini key", "Anthropic key", "echoed upstream key",
			"provider key added through the API"} {
			if strings.Contains(body, secrets[name]) {
				t.Errorf("a client received the %s: %s", name, body)
			}
		}
	}
}

// drive sends requests carrying every kind of secret down every path, successes and
// failures, and returns the bodies clients received. It adds the keys it makes to
// secrets.
func drive(t *testing.T, g *gateway, secrets map[string]string) []string {
	t.Helper()
	var seen []string
	send := func(method, path, key, body string, header map[string]string) reply {
		r := g.call(t, method, path, key, body, header)
		seen = append(seen, string(r.body))
		return r
	}
	id, key := g.createKey(t, `{"name":"obs","project":"web","can_mint":true}`)
	secrets["client key"] = key
	// A careless client: its key in the user agent, the request id and the query string.
	careless := map[string]string{"User-Agent": "app/1.0 (key=" + key + ")", "x-request-id": key,
		"X-Forwarded-For": "198.51.100.7"}
	for _, model := range []string{"gpt-4o-mini", "gemini", "claude"} {
		expect(t, model, send("POST", "/v1/chat/completions?api_key="+key, key, chatBody(model), careless), 200, "")
		expect(t, model+" streamed", send("POST", "/v1/chat/completions", key,
			`{"model":"`+model+`","stream":true,"messages":[{"role":"user","content":"hi"}]}`, careless), 200, "")
	}
	expect(t, "embeddings", send("POST", "/v1/embeddings", key, `{"model":"text-embedding-3-small","input":"x"}`, careless), 200, "")
	var child struct{ Key string }
	json.Unmarshal(g.mint(t, key, `{"ttl":"10m"}`).body, &child)
	secrets["ephemeral child key"] = child.Key
	expect(t, "child key", send("POST", "/v1/chat/completions", child.Key, chatBody("gemini"), nil), 200, "")

	// Upstream failures: a rejected Gemini key, and a provider that echoes the key.
	expect(t, "rejected Gemini key", send("POST", "/v1/chat/completions", key, chatBody("gemini-bad"), nil), 502, "upstream_error")
	send("POST", "/v1/chat/completions", key, chatBody("echo-401"), nil)
	send("POST", "/v1/chat/completions", key, chatBody("echo-400"), nil)

	// Keys refused: malformed, never issued, revoked, of the wrong kind, in each header.
	_, revoked := g.createKey(t, `{"name":"to-revoke"}`)
	secrets["revoked key"] = revoked
	g.admin(t, "POST", "/keys/"+keyID(revoked)+"/revoke", `{"reason":"test"}`, 200, nil)
	unknown, badAdmin := wellFormed("tgk", "Z"), wellFormed("tga", "Y")
	secrets["unknown key"], secrets["wrong admin token"] = unknown, badAdmin
	for i, k := range []string{key[:30], unknown, revoked, adminToken} {
		ip := map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1)}
		send("POST", "/v1/chat/completions", k, chatBody("gpt-4o-mini"), ip)
		send("POST", "/v1/chat/completions", "", chatBody("gpt-4o-mini"), map[string]string{"x-api-key": k})
		send("GET", "/v1/models", "", "", map[string]string{"api-key": k})
	}
	send("GET", "/admin/v1/keys", badAdmin, "", nil)
	send("GET", "/admin/v1/keys", key, "", nil)

	// Admin changes that carry secrets in their bodies.
	g.admin(t, "POST", "/providers", `{"name":"stored","type":"openai","base_url":"http://127.0.0.1:1/v1"}`, 201, nil)
	g.admin(t, "POST", "/providers/stored/keys", `{"secret":"`+storedKey+`","label":"main"}`, 201, nil)
	var rot struct{ Key string }
	g.admin(t, "POST", "/keys/"+id+"/rotate", `{"grace":"1h"}`, 200, &rot)
	secrets["rotated key"] = rot.Key
	expect(t, "rotated key", send("POST", "/v1/chat/completions", rot.Key, chatBody("gpt-4o-mini"), nil), 200, "")
	return seen
}

// keyID is a key's public id.
func keyID(key string) string {
	p, _ := keys.Parse(key)
	return p.ID
}

// secretParts are the pieces of a secret whose presence means it leaked: two
// overlapping stretches of its middle, so that a leak of only part of it (without a
// prefix, or without the public id) is caught too.
func secretParts(s string) []string {
	return []string{s[6 : len(s)-6], s[len(s)-30 : len(s)-4]}
}

// checkSinksHaveContent makes sure each sink recorded what the test did, so that a
// clean sink means something.
func checkSinksHaveContent(t *testing.T, sinks map[string]string) {
	t.Helper()
	want := map[string][]string{
		"log":         {`"msg":"request"`, "revoked_api_key", "upstream_error"},
		"metrics":     {"tollgate_requests_total{", `tollgate_breaker_state{model="gemini-2.5-flash",provider="gem-bad",state=`, `tollgate_queue_depth{queue="spend"}`, "tollgate_cost_usd_total{"},
		"request log": {`"event":"request"`, `"event":"auth_failure"`, `"event":"audit"`, `"provider":"gem"`, `"action":"provider_key.add"`},
		"traces":      {"gcp.gemini", "anthropic", "POST /v1/chat/completions", "chat gemini-2.5-flash"},
		"audit log":   {"provider_key.add", "key.revoke", "admin.auth_failed"},
		"GET /logs":   {`"provider":"claude"`},
	}
	for sink, parts := range want {
		for _, p := range parts {
			if !strings.Contains(sinks[sink], p) {
				t.Errorf("the %s lacks %s: the test did not reach it", sink, p)
			}
		}
	}
}

// spendLog reads GET /admin/v1/logs once the spend writer has flushed the requests.
func spendLog(t *testing.T, g *gateway) string {
	t.Helper()
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if body = string(g.call(t, "GET", "/admin/v1/logs?limit=1000", adminToken, "", nil).body); strings.Contains(body, `"provider":"claude"`) {
			break
		}
	}
	return body
}

func readDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// dumpSpans renders every exported span: names, attributes, status, events, links and
// resource.
func dumpSpans(t *testing.T, spans *tracetest.InMemoryExporter) string {
	t.Helper()
	var b strings.Builder
	for _, s := range spans.GetSpans() {
		fmt.Fprintf(&b, "%s %v %+v %+v %+v", s.Name, s.Status, s.Events, s.Links, s.Resource.Attributes())
		for _, kv := range s.Attributes {
			fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.Emit())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestAnomaliesAndTheAutoSuspendSettingThroughTheAPI(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	id, _ := g.createKey(t, `{"name":"watched","auto_suspend":true}`)
	var v struct {
		AutoSuspend bool `json:"auto_suspend"`
	}
	g.admin(t, "GET", "/keys/"+id, "", 200, &v)
	if !v.AutoSuspend {
		t.Fatal("auto_suspend was not kept")
	}
	var raw map[string]any
	g.admin(t, "PATCH", "/keys/"+id, `{"auto_suspend":false}`, 200, &raw)
	if raw["auto_suspend"] == true || raw["id"] != id {
		t.Fatal("auto_suspend was not cleared")
	}
	at := time.Now().UTC().Truncate(time.Minute)
	for _, a := range []store.Anomaly{{ID: "anom_1", Kind: "volume_spike", Severity: "high"},
		{ID: "anom_2", Kind: "new_model", Severity: "low"}} {
		a.Time, a.WindowStart, a.KeyID, a.Summary = at, at.Add(-time.Minute), id, "s"
		if err := g.App.Store.InsertAnomaly(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Data []struct{ ID, KeyID, Severity string } `json:"data"`
	}
	g.admin(t, "GET", "/anomalies?severity=medium&key_id="+id, "", 200, &page)
	if len(page.Data) != 1 || page.Data[0].ID != "anom_1" {
		t.Fatalf("anomalies: %+v", page)
	}
	g.admin(t, "GET", "/anomalies?severity=urgent", "", 400, nil)
}
