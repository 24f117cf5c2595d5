package app_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// TestOpenAISDK drives every endpoint through the go-openai client, on both stores.
func TestOpenAISDK(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g := startGateway(t, engine, nil)
			cfg := openai.DefaultConfig(g.Key)
			cfg.BaseURL = g.URL + "/v1"
			c := openai.NewClientWithConfig(cfg)
			ctx := context.Background()
			msgs := []openai.ChatCompletionMessage{{Role: "user", Content: "Hello there"}}

			resp, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "gpt-4o-mini", Messages: msgs})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Choices) != 1 || resp.Choices[0].Message.Content == "" || resp.Usage.TotalTokens == 0 {
				t.Fatalf("chat: %+v", resp)
			}
			if resp.Header().Get("x-tollgate-provider") != "fake" || resp.Header().Get("x-tollgate-attempts") != "1" {
				t.Fatalf("routing headers: %v", resp.Header())
			}

			st, err := c.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{Model: "gpt-4o-mini", Messages: msgs,
				StreamOptions: &openai.StreamOptions{IncludeUsage: true}})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			var usage *openai.Usage
			for {
				chunk, err := st.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, ch := range chunk.Choices {
					text.WriteString(ch.Delta.Content)
				}
				if chunk.Usage != nil {
					usage = chunk.Usage
				}
			}
			st.Close()
			if text.Len() == 0 || usage == nil || usage.CompletionTokens == 0 {
				t.Fatalf("stream: text %q usage %+v", text.String(), usage)
			}

			comp, err := c.CreateCompletion(ctx, openai.CompletionRequest{Model: "gpt-3.5-turbo-instruct", Prompt: "Say hi"})
			if err != nil || len(comp.Choices) == 0 || comp.Choices[0].Text == "" {
				t.Fatalf("completions: %v %+v", err, comp)
			}

			emb, err := c.CreateEmbeddings(ctx, openai.EmbeddingRequest{Model: "text-embedding-3-small", Input: []string{"a", "b"}})
			if err != nil || len(emb.Data) != 2 || len(emb.Data[0].Embedding) == 0 {
				t.Fatalf("embeddings: %v %+v", err, emb)
			}
			// The Python SDK's default: base64 floats.
			emb64, err := c.CreateEmbeddings(ctx, openai.EmbeddingRequest{Model: "text-embedding-3-small",
				Input: []string{"a"}, EncodingFormat: openai.EmbeddingEncodingFormatBase64})
			if err != nil || len(emb64.Data[0].Embedding) != len(emb.Data[0].Embedding) {
				t.Fatalf("base64 embeddings: %v", err)
			}

			models, err := c.ListModels(ctx)
			if err != nil || len(models.Models) != 4 {
				t.Fatalf("models: %v %+v", err, models)
			}
			m, err := c.GetModel(ctx, "chat-model")
			if err != nil || m.ID != "chat-model" {
				t.Fatalf("model: %v %+v", err, m)
			}
			if _, err := c.GetModel(ctx, "nope"); !isStatus(err, 404) {
				t.Fatalf("unknown model: %v", err)
			}
		})
	}
}

func isStatus(err error, status int) bool {
	var e *openai.APIError
	return errors.As(err, &e) && e.HTTPStatusCode == status
}

// TestUnknownFieldsReachTheUpstreamUnchanged compares the upstream body to the client's.
func TestUnknownFieldsReachTheUpstreamUnchanged(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	body := `{"zeta_custom":{"nested":[1,2.50,"x"]},"model":"chat-model",` +
		`"messages":[{"role":"user","content":"hi","x-extra":true}],  "temperature":0.7,` +
		`"service_tier":"flex","prompt_cache_key":"abc","unheard_of":null}`
	resp := g.post(t, "/v1/chat/completions", body, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rec, ok := g.Fake.LastRequest()
	if !ok {
		t.Fatal("the upstream saw no request")
	}
	want := strings.Replace(body, `"model":"chat-model"`, `"model":"gpt-4o-mini"`, 1)
	if string(rec.Body) != want {
		t.Fatalf("upstream body differs:\n got %s\nwant %s", rec.Body, want)
	}
	if rec.Key != upstreamKey {
		t.Fatal("the upstream did not get the provider key")
	}
}

// TestStreamChunksArriveWhenSent checks chunks are relayed as they come, not buffered.
func TestStreamChunksArriveWhenSent(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],` +
		`"fakellm":{"chunks":4,"chunk_delay_ms":200}}`
	resp := g.post(t, "/v1/chat/completions", body, nil)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var arrivals []time.Time
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "data: ") {
			arrivals = append(arrivals, time.Now())
			lines = append(lines, l)
		}
	}
	if len(lines) < 6 || lines[len(lines)-1] != "data: [DONE]" {
		t.Fatalf("stream: %q", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, `"usage"`) {
			t.Fatalf("usage reached a client that did not ask for it: %s", l)
		}
	}
	// Four chunks 200 ms apart: the first content chunk and the last one are at least
	// about 600 ms apart on the client. One burst at the end would make this ~0.
	if spread := arrivals[len(arrivals)-1].Sub(arrivals[0]); spread < 450*time.Millisecond {
		t.Fatalf("chunks arrived in a burst: spread %v", spread)
	}
}

// TestClientDisconnectCancelsUpstream closes the client mid-stream and watches the
// fake upstream see its request cancelled.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],` +
		`"fakellm":{"chunks":50,"chunk_delay_ms":100}}`
	resp := g.post(t, "/v1/chat/completions", body, nil)
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for g.Fake.Cancelled() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upstream request was not cancelled after the client left")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestErrorsInOpenAIShape covers the bad inputs of the issue, each in OpenAI's shape.
func TestErrorsInOpenAIShape(t *testing.T) {
	zero := 0
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		c.MaxBodyBytes = 4096
		c.Models = append(c.Models, configs.Model{Name: "slow", Timeout: configs.Duration(300 * time.Millisecond),
			Retries: &zero, Targets: []configs.Target{{Provider: "fake", Model: "gpt-4o"}}},
			configs.Model{Name: "faulty", Targets: []configs.Target{{Provider: "fake", Model: "gpt-4.1-mini"}}})
	})
	chat := func(extra string) string {
		return `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]` + extra + `}`
	}
	// faulty has a target of its own: the failures sent to it open its breaker only.
	faulty := func(knobs string) string {
		return `{"model":"faulty","messages":[{"role":"user","content":"hi"}],` + knobs + `}`
	}
	for _, tc := range []struct {
		name   string
		body   string
		header map[string]string
		status int
		code   string
	}{
		{"bad json", `{"model":`, nil, 400, "invalid_json"},
		{"not an object", `[1,2]`, nil, 400, "invalid_json"},
		{"no model", `{"messages":[]}`, nil, 400, "missing_field"},
		{"no messages", `{"model":"gpt-4o-mini"}`, nil, 400, "missing_field"},
		{"unknown model", `{"model":"nope","messages":[]}`, nil, 404, "model_not_found"},
		{"oversized body", chat(`,"pad":"` + strings.Repeat("x", 5000) + `"`), nil, 413, "request_too_large"},
		{"upstream garbage", faulty(`"fakellm":{"mode":"garbage"}`), nil, 502, "upstream_error"},
		{"upstream 500", faulty(`"fakellm":{"error_rate":1,"error_status":500}`), nil, 502, "upstream_error"},
		{"upstream 400 passes through", chat(`,"fakellm":{"error_rate":1,"error_status":400}`), nil, 400, ""},
		{"upstream hangs", `{"model":"slow","messages":[{"role":"user","content":"hi"}],"fakellm":{"mode":"hang"}}`, nil, 504, "upstream_timeout"},
		{"stream upstream hangs", `{"model":"slow","stream":true,"messages":[],"fakellm":{"mode":"hang"}}`, nil, 504, "upstream_timeout"},
		{"missing key", chat(""), map[string]string{"Authorization": ""}, 401, "invalid_api_key"},
		{"malformed key", chat(""), map[string]string{"Authorization": "Bearer sk-not-ours"}, 401, "invalid_api_key"},
		{"unknown key", chat(""), map[string]string{"Authorization": "Bearer tgk_000000000000_00000000000000000000000000000000" + "3NRRTX"}, 401, "invalid_api_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp := g.post(t, "/v1/chat/completions", tc.body, tc.header)
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, data)
			}
			if code := decodeError(t, data); tc.code != "" && code != tc.code {
				t.Fatalf("code %q, want %q: %s", code, tc.code, data)
			}
			if tc.status == 504 && time.Since(start) < 300*time.Millisecond {
				t.Fatal("504 before the configured timeout")
			}
		})
	}
}

// TestSecretsNeverAtRest checks the SQLite files and the logs for every secret in play.
func TestSecretsNeverAtRest(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	for _, body := range []string{
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"gpt-4o-mini","messages":[],"fakellm":{"error_rate":1,"error_status":401}}`,
	} {
		resp := g.post(t, "/v1/chat/completions", body, nil)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp := g.post(t, "/v1/chat/completions", `{}`, map[string]string{"Authorization": "Bearer " + g.Key + "x"})
	resp.Body.Close()
	g.admin(t, "GET", "/keys", "", 200, nil)
	g.App.Store.SQL().Exec("PRAGMA wal_checkpoint(FULL)")

	path := strings.TrimPrefix(g.DB, "sqlite:")
	files, _ := filepath.Glob(path + "*")
	if len(files) == 0 {
		t.Fatalf("no database files at %s", path)
	}
	secrets := map[string]string{"client key": g.Key, "provider key": upstreamKey, "admin token": adminToken,
		"client key secret part": g.Key[17:49]}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds the %s in plaintext", filepath.Base(f), name)
			}
		}
	}
	logs := g.Logs.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatal("no access log lines were captured")
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

// TestHealthAndMetrics checks the operational endpoints.
func TestHealthAndMetrics(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	resp := g.post(t, "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`, "/metrics": `tollgate_requests_total{code="",endpoint="chat",model="gpt-4o-mini",provider="fake",status="200"} 1`} {
		resp, err := http.Get(g.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(data), want) {
			t.Fatalf("%s: %d %.200s", path, resp.StatusCode, data)
		}
	}
}
