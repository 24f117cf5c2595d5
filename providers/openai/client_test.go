package openai

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/tollgate-llm/tollgate/schema"
)

const completion = `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,` +
	`"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!",` +
	`"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,` +
	`"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0,` +
	`"cache_write_tokens":5},"completion_tokens_details":{"reasoning_tokens":4,"audio_tokens":0,` +
	`"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","x_vendor":{"b":1,"a":2}}`

// TestRequestBodySurgical checks that the upstream receives the client's exact bytes
// with only the documented edits.
func TestRequestBodySurgical(t *testing.T) {
	const tail = `"zeta":{"b":1,"a":[3,2,1]},"logit_bias":{"50256":-100},"metadata":{"z":"1","a":"2"}`
	tests := []struct {
		name, typ string
		stream    bool
		body      string
		want      string
	}{{
		name: "complete replaces only the model",
		typ:  "openai",
		body: `{"messages":[{"role":"user","content":"hi","x_new":true}],"model":"my-route",` + tail + `}`,
		want: `{"messages":[{"role":"user","content":"hi","x_new":true}],"model":"gpt-4o",` + tail + `}`,
	}, {
		name: "complete with the upstream model already set is untouched",
		typ:  "openai",
		body: `{"model":"gpt-4o","messages":[],` + tail + `}`,
		want: `{"model":"gpt-4o","messages":[],` + tail + `}`,
	}, {
		name: "pretty printed body keeps its whitespace",
		typ:  "openai",
		body: "{\n  \"model\" :  \"my-route\",\n  \"messages\": [ ]\n}",
		want: "{\n  \"model\" :  \"gpt-4o\",\n  \"messages\": [ ]\n}",
	}, {
		name:   "stream adds stream_options at the end",
		typ:    "openai",
		stream: true,
		body:   `{"model":"my-route","stream":true,"messages":[],` + tail + `}`,
		want:   `{"model":"gpt-4o","stream":true,"messages":[],` + tail + `,"stream_options":{"include_usage":true}}`,
	}, {
		name:   "stream keeps the client's other stream_options",
		typ:    "groq",
		stream: true,
		body:   `{"stream_options":{"include_obfuscation":false},"model":"my-route","stream":true,` + tail + `}`,
		want:   `{"stream_options":{"include_obfuscation":false,"include_usage":true},"model":"gpt-4o","stream":true,` + tail + `}`,
	}, {
		name:   "stream that already asks for usage only changes the model",
		typ:    "deepseek",
		stream: true,
		body:   `{"model":"my-route","stream":true,"stream_options":{"include_usage":true},` + tail + `}`,
		want:   `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},` + tail + `}`,
	}, {
		name:   "mistral: tool_choice required becomes any, seed becomes random_seed, no stream_options",
		typ:    "mistral",
		stream: true,
		body: `{"model":"my-route","seed":42,"stream":true,"stream_options":{"include_usage":true},` +
			`"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}}],` + tail + `}`,
		want: `{"model":"gpt-4o","stream":true,"tool_choice":"any","tools":[{"type":"function","function":{"name":"f"}}],` +
			tail + `,"random_seed":42}`,
	}, {
		name: "mistral: max_completion_tokens becomes max_tokens, object tool_choice untouched",
		typ:  "mistral",
		body: `{"model":"my-route","max_completion_tokens":64,"tool_choice":{"type":"function","function":{"name":"f"}},` + tail + `}`,
		want: `{"model":"gpt-4o","tool_choice":{"type":"function","function":{"name":"f"}},` + tail + `,"max_tokens":64}`,
	}, {
		name: "other types keep tool_choice required",
		typ:  "groq",
		body: `{"model":"my-route","tool_choice":"required","seed":1}`,
		want: `{"model":"gpt-4o","tool_choice":"required","seed":1}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := replyJSON(http.StatusOK, completion, nil)
			if tt.stream {
				h = replaySSE(t, "openai_text.sse")
			}
			srv, rec := upstream(t, h)
			c := newTestClient(t, tt.typ, srv.URL+"/v1/")
			call := chatCall(tt.body, false)
			var err error
			if tt.stream {
				var s schema.Stream
				if s, err = c.Stream(context.Background(), call); err == nil {
					err = s.Close()
				}
			} else {
				_, err = c.Complete(context.Background(), call)
			}
			if err != nil {
				t.Fatal(err)
			}
			method, path, hdr, got := rec.last()
			if string(got) != tt.want {
				t.Errorf("upstream body\n got %s\nwant %s", got, tt.want)
			}
			if string(call.Request.Body) != tt.body {
				t.Errorf("client body was modified: %s", call.Request.Body)
			}
			if method != http.MethodPost || path != "/v1/chat/completions" {
				t.Errorf("request %s %s, want POST /v1/chat/completions", method, path)
			}
			wantAccept := map[bool]string{false: "application/json", true: "text/event-stream"}[tt.stream]
			for k, want := range map[string]string{"Authorization": "Bearer " + testKey,
				"Content-Type": "application/json", "Accept": wantAccept, "X-Title": "tollgate-test"} {
				if got := hdr.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestNoKeyNoAuthorization checks that an empty credential (Ollama, vLLM) sends no
// Authorization header at all.
func TestNoKeyNoAuthorization(t *testing.T) {
	srv, rec := upstream(t, replyJSON(http.StatusOK, completion, nil))
	c := newTestClient(t, "ollama", srv.URL+"/v1")
	call := chatCall(`{"model":"m","messages":[]}`, false)
	call.Key = schema.Secret{}
	if _, err := c.Complete(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if _, _, hdr, _ := rec.last(); hdr.Values("Authorization") != nil {
		t.Errorf("Authorization sent without a key: %q", hdr.Values("Authorization"))
	}
}

func TestComplete(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		header    map[string]string
		wantUsage schema.Usage
		hasUsage  bool
		wantRL    map[string]string
	}{{
		name: "openai usage with cache and reasoning details",
		body: completion,
		header: map[string]string{"x-ratelimit-limit-requests": "10000", "x-ratelimit-reset-tokens": "6m0s",
			"x-request-id": "req_123"},
		wantUsage: schema.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29, CachedTokens: 8,
			CacheWriteTokens: 5, ReasoningTokens: 4},
		hasUsage: true,
		wantRL:   map[string]string{"x-ratelimit-limit-requests": "10000", "x-ratelimit-reset-tokens": "6m0s"},
	}, {
		name: "deepseek cache hit tokens",
		body: `{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":7,` +
			`"total_tokens":107,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}`,
		wantUsage: schema.Usage{PromptTokens: 100, CompletionTokens: 7, TotalTokens: 107, CachedTokens: 64},
		hasUsage:  true,
	}, {
		name:      "embeddings usage without total",
		body:      `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1]}],"usage":{"prompt_tokens":8}}`,
		wantUsage: schema.Usage{PromptTokens: 8, TotalTokens: 8},
		hasUsage:  true,
	}, {
		name: "no usage",
		body: `{"id":"x","object":"chat.completion","choices":[],"usage":null}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := upstream(t, replyJSON(http.StatusOK, tt.body, tt.header))
			c := newTestClient(t, "openai", srv.URL)
			resp, err := c.Complete(context.Background(), chatCall(`{"model":"a"}`, false))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body, []byte(tt.body)) {
				t.Errorf("body changed:\n got %s\nwant %s", resp.Body, tt.body)
			}
			if resp.Usage != tt.wantUsage || resp.HasUsage != tt.hasUsage {
				t.Errorf("usage = %+v %v, want %+v %v", resp.Usage, resp.HasUsage, tt.wantUsage, tt.hasUsage)
			}
			if len(resp.RateLimit) != len(tt.wantRL) {
				t.Errorf("rate limits = %v, want %v", resp.RateLimit, tt.wantRL)
			}
			for k, v := range tt.wantRL {
				if resp.RateLimit[k] != v {
					t.Errorf("rate limit %s = %q, want %q", k, resp.RateLimit[k], v)
				}
			}
		})
	}
}

func TestEndpointPaths(t *testing.T) {
	for _, ep := range []schema.Endpoint{schema.EndpointChat, schema.EndpointCompletions, schema.EndpointEmbeddings} {
		t.Run(string(ep), func(t *testing.T) {
			srv, rec := upstream(t, replyJSON(http.StatusOK, `{"object":"list","data":[]}`, nil))
			c := newTestClient(t, "vllm", srv.URL+"/v1")
			call := chatCall(`{"model":"a","input":"x"}`, false)
			call.Request.Endpoint = ep
			if _, err := c.Complete(context.Background(), call); err != nil {
				t.Fatal(err)
			}
			if _, path, _, _ := rec.last(); path != "/v1"+ep.Path() {
				t.Errorf("path = %s, want /v1%s", path, ep.Path())
			}
		})
	}
}
