package azure

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

func TestRouteURLs(t *testing.T) {
	tests := []struct {
		name, base, version string
		endpoint            schema.Endpoint
		want                string
	}{
		{"classic default version", "https://res.openai.azure.com", "", schema.EndpointChat,
			"https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=" + DefaultAPIVersion},
		{"classic dated preview", "https://res.openai.azure.com/", "2025-04-01-preview", schema.EndpointEmbeddings,
			"https://res.openai.azure.com/openai/deployments/gpt-4o-prod/embeddings?api-version=2025-04-01-preview"},
		{"classic base ending in /openai", "https://res.openai.azure.com/openai", "2024-10-21", schema.EndpointCompletions,
			"https://res.openai.azure.com/openai/deployments/gpt-4o-prod/completions?api-version=2024-10-21"},
		{"v1 from the base URL", "https://res.openai.azure.com/openai/v1/", "", schema.EndpointChat,
			"https://res.openai.azure.com/openai/v1/chat/completions"},
		{"v1 from api_version", "https://res.openai.azure.com", "v1", schema.EndpointEmbeddings,
			"https://res.openai.azure.com/openai/v1/embeddings"},
		{"v1 preview", "https://res.cognitiveservices.azure.com", "preview", schema.EndpointChat,
			"https://res.cognitiveservices.azure.com/openai/v1/chat/completions?api-version=preview"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newRoute(tt.base, tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.url(r.base, tt.endpoint, "gpt-4o-prod"); got != tt.want {
				t.Errorf("url = %s\nwant  %s", got, tt.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []providers.Config{
		{Name: "a", Type: "azure"},
		{Name: "a", Type: "azure", BaseURL: "https://res.openai.azure.com/openai/deployments/gpt-4o"},
		{Name: "a", Type: "azure", BaseURL: "https://res.openai.azure.com/openai/v1", APIVersion: "2024-10-21"},
		{Name: "a", Type: "azure", BaseURL: "res.openai.azure.com"},
		{Name: "a", Type: "azure", BaseURL: "https://res.openai.azure.com", APIVersion: "2024-06-01"},
		{Name: "a", Type: "azure", BaseURL: "https://res.openai.azure.com", APIVersion: "latest&x=1"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}

func TestDeploymentIsEscaped(t *testing.T) {
	r, _ := newRoute("https://res.openai.azure.com", "")
	if got := r.url(r.base, schema.EndpointChat, "my deploy/x"); !strings.Contains(got, "/deployments/my%20deploy%2Fx/chat") {
		t.Errorf("url = %s", got)
	}
}

// TestAuthHeaders checks that an API key travels in api-key and an Entra ID token as a
// bearer token, never both and never in the URL.
func TestAuthHeaders(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJl"
	for _, tt := range []struct {
		name, key, apiKey, bearer string
	}{
		{"api key", testKey, testKey, ""},
		{"entra token", jwt, "", "Bearer " + jwt},
		{"dotted but not a jwt", "abc.def.ghi", "abc.def.ghi", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := upstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
			})
			c := call(schema.EndpointChat, `{"model":"my-route","messages":[{"role":"user","content":"hi"}]}`, false)
			c.Key = schema.NewSecret(tt.key)
			if _, err := newProvider(t, srv.URL, "", nil).Complete(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			path, query, h, body := rec.get()
			if h.Get("api-key") != tt.apiKey || h.Get("Authorization") != tt.bearer {
				t.Errorf("api-key %q Authorization %q", h.Get("api-key"), h.Get("Authorization"))
			}
			if strings.Contains(path+query, tt.key) {
				t.Error("the key travelled in the URL")
			}
			if path != "/openai/deployments/gpt-4o-prod/chat/completions" || query != "api-version="+DefaultAPIVersion {
				t.Errorf("request to %s?%s", path, query)
			}
			if gjson.GetBytes(body, "model").Str != "gpt-4o-prod" {
				t.Errorf("body model = %s", gjson.GetBytes(body, "model"))
			}
		})
	}
}

// TestCompleteKeepsAzureAnnotations checks that an unstreamed answer passes through
// byte for byte, prompt_filter_results and content_filter_results included, and that a
// completion stopped by the filter keeps finish_reason content_filter.
func TestCompleteKeepsAzureAnnotations(t *testing.T) {
	answer := `{"choices":[{"content_filter_results":{"violence":{"filtered":true,"severity":"medium"}},"finish_reason":"content_filter",` +
		`"index":0,"logprobs":null,"message":{"content":"The battle","refusal":null,"role":"assistant"}}],"created":1736407950,` +
		`"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,` +
		`"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],"usage":{"completion_tokens":2,` +
		`"prompt_tokens":14,"prompt_tokens_details":{"cached_tokens":8},"total_tokens":16}}`
	srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-ratelimit-remaining-requests", "99")
		_, _ = w.Write([]byte(answer))
	})
	resp, err := newProvider(t, srv.URL, "", nil).Complete(context.Background(),
		call(schema.EndpointChat, `{"model":"my-route","messages":[{"role":"user","content":"tell a war story"}]}`, false))
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != answer {
		t.Errorf("body changed:\n%s", resp.Body)
	}
	want := schema.Usage{PromptTokens: 14, CompletionTokens: 2, TotalTokens: 16, CachedTokens: 8}
	if resp.Usage != want || !resp.HasUsage || resp.RateLimit["x-ratelimit-remaining-requests"] != "99" {
		t.Errorf("usage %+v %v, rate limits %v", resp.Usage, resp.HasUsage, resp.RateLimit)
	}
}
