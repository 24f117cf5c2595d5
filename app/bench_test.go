package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/configs"
)

const cannedChat = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,` +
	`"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`

// cannedUpstream answers every request with fixed bytes, so the benchmark measures the
// gateway rather than a fake model.
func cannedUpstream(b *testing.B, stream bool) string {
	chunk := `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}` + "\n\n"
	body := strings.Repeat(chunk, 24) +
		`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":24,"total_tokens":33}}` +
		"\n\ndata: [DONE]\n\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, cannedChat)
	}))
	b.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func benchGateway(b *testing.B, stream bool) {
	upstream := cannedUpstream(b, stream)
	g := startGateway(b, "sqlite", func(c *configs.Config) {
		c.Providers = append(c.Providers, configs.Provider{Name: "canned", Type: "openai", BaseURL: upstream,
			Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}})
		c.Models = append(c.Models, configs.Model{Name: "canned", Targets: []configs.Target{{Provider: "canned", Model: "gpt-4o-mini"}}})
		c.Log.Level = "error"
	})
	h := g.App.Server.Handler()
	body := `{"model":"canned","messages":[{"role":"user","content":"Hello there, how are you?"}],"temperature":0.2}`
	if stream {
		body = `{"model":"canned","stream":true,"messages":[{"role":"user","content":"Hello there, how are you?"}]}`
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.Key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkPassthroughChat is one non-streamed chat request through the whole gateway
// (auth, parse, route, passthrough, response) against a canned upstream on loopback.
// Its allocations include the HTTP client's and the canned upstream's.
func BenchmarkPassthroughChat(b *testing.B) { benchGateway(b, false) }

// BenchmarkPassthroughStream is one 24-chunk streamed chat request through the gateway.
func BenchmarkPassthroughStream(b *testing.B) { benchGateway(b, true) }
