package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/app"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store/storetest"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// Fixed test credentials. They look like real ones on purpose, so the log and database
// checks would catch them.
const (
	upstreamKey = "sk-proj-TESTupstreamKEYdoNotUse0123456789abcdefghij"
	adminToken  = "tga_ADMINtoken01_TESTadminTOKENdoNotUse01234567890000"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gateway is a running tollgate with a fake OpenAI upstream.
type gateway struct {
	URL  string
	Key  string // a client key with every scope
	Fake *fakellm.Server
	App  *app.App
	Logs *syncBuffer
	DB   string
	// Stop begins a graceful shutdown, as SIGTERM does; Done reports when serving ended.
	Stop context.CancelFunc
	Done <-chan error
}

// startGateway runs the real gateway on loopback over the given store engine. edit may
// change the config before start.
func startGateway(t testing.TB, engine string, edit func(*configs.Config)) *gateway {
	t.Helper()
	fake := fakellm.New(fakellm.Options{Keys: []string{upstreamKey}, Models: []string{"*"}})
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	cfg := &configs.Config{
		Listen:      "127.0.0.1:0",
		DatabaseURL: storetest.URL(t, engine),
		Providers: []configs.Provider{{Name: "fake", Type: "openai", BaseURL: base,
			Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}}},
		Models: []configs.Model{
			{Name: "gpt-4o-mini", Targets: []configs.Target{{Provider: "fake"}}},
			{Name: "chat-model", Targets: []configs.Target{{Provider: "fake", Model: "gpt-4o-mini"}}},
			{Name: "text-embedding-3-small", Targets: []configs.Target{{Provider: "fake"}}},
			{Name: "gpt-3.5-turbo-instruct", Targets: []configs.Target{{Provider: "fake"}}},
		},
	}
	// Each gateway spills spend rows to a directory of its own, never the shared default.
	cfg.Billing.SpillDir = filepath.Join(t.TempDir(), "spill")
	if edit != nil {
		edit(cfg)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FAKE_OPENAI_KEY": upstreamKey, "TOLLGATE_ADMIN_TOKEN": adminToken}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg, Getenv: func(k string) string { return env[k] },
		Log: telemetry.NewLogger(logs, telemetry.ParseLevel("debug")), Notice: logs,
		KeyFile: filepath.Join(t.TempDir(), "tollgate.key")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := app.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	served := make(chan error, 1)
	go func() { err := a.Run(ctx, ln); done <- err; served <- err }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	g := &gateway{URL: "http://" + ln.Addr().String(), Fake: fake, App: a, Logs: logs, DB: cfg.DatabaseURL,
		Stop: cancel, Done: served}
	var created struct{ Key string }
	g.admin(t, "POST", "/keys", `{"name":"test-app","project":"tests"}`, 201, &created)
	g.Key = created.Key
	return g
}

// admin calls the admin API and decodes the answer.
func (g *gateway) admin(t testing.TB, method, path, body string, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, g.URL+"/admin/v1"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// post sends a raw request to the OpenAI-compatible API with the gateway's key.
func (g *gateway) post(t testing.TB, path, body string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", g.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.Key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// openAIError is OpenAI's error body; every field must be present.
type openAIError struct {
	Error *struct {
		Message *string `json:"message"`
		Type    *string `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// decodeError checks the body is OpenAI's error shape and returns its code.
func decodeError(t testing.TB, body []byte) string {
	t.Helper()
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	for _, f := range []string{"message", "type", "param", "code"} {
		if _, ok := raw["error"][f]; !ok {
			t.Fatalf("error body lacks %q: %s", f, body)
		}
	}
	var e openAIError
	json.Unmarshal(body, &e)
	if e.Error.Message == nil || *e.Error.Message == "" {
		t.Fatalf("error without a message: %s", body)
	}
	if e.Error.Code == nil {
		return ""
	}
	return *e.Error.Code
}
