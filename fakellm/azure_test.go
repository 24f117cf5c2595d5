package fakellm

import (
	"net/http"
	"strings"
	"testing"
)

const azureChat = "/openai/deployments/gpt-4o-mini/chat/completions"

// azureReq sends an Azure request with the api-key header.
func (f *fixture) azure(path, body string, headers map[string]string) (int, http.Header, []byte) {
	f.t.Helper()
	h := map[string]string{"api-key": testKey}
	for k, v := range headers {
		h[k] = v
	}
	return f.call(req{path: path, body: body, headers: h, noAuth: true})
}

// TestAzureRoutes checks the classic route's requirements (api-version, a served
// deployment, stream_options only on recent versions) and the v1 route.
func TestAzureRoutes(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{testKey}})
	noModel := `{"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"classic", azureChat + "?api-version=2024-10-21", noModel, 200, ""},
		{"classic preview version", azureChat + "?api-version=2025-04-01-preview", noModel, 200, ""},
		{"no api-version", azureChat, noModel, 404, "404"},
		{"bad api-version", azureChat + "?api-version=latest", noModel, 400, "BadRequest"},
		{"unknown deployment", "/openai/deployments/nope/chat/completions?api-version=2024-10-21", noModel, 404, "DeploymentNotFound"},
		{"unknown operation", "/openai/deployments/gpt-4o-mini/audio/speech?api-version=2024-10-21", noModel, 404, "404"},
		{"stream_options on an old version", azureChat + "?api-version=2024-06-01",
			`{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`, 400, ""},
		{"embeddings", "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21", `{"input":"hi"}`, 200, ""},
		{"v1", "/openai/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, 200, ""},
		{"v1 preview", "/openai/v1/chat/completions?api-version=preview", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, 200, ""},
		{"v1 with a dated version", "/openai/v1/chat/completions?api-version=2024-10-21", `{"model":"gpt-4o-mini","messages":[]}`, 400, "BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := f.azure(tt.path, tt.body, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, b)
			}
			if tt.code != "" && !strings.Contains(string(b), `"code":"`+tt.code+`"`) {
				t.Errorf("body %s lacks code %s", b, tt.code)
			}
			if h.Get("apim-request-id") == "" || h.Get("x-ratelimit-remaining-tokens") == "" {
				t.Errorf("missing Azure headers: %v", h)
			}
		})
	}
}

// TestAzureAnswerAnnotations checks prompt_filter_results and content_filter_results
// on an unstreamed answer, and the completion filter's finish_reason.
func TestAzureAnswerAnnotations(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{testKey}})
	body := `{"messages":[{"role":"user","content":"hi"}]}`
	status, _, b := f.azure(azureChat+"?api-version=2024-10-21", body, nil)
	var resp struct {
		Model               string
		PromptFilterResults []map[string]any `json:"prompt_filter_results"`
		Choices             []struct {
			FinishReason         string         `json:"finish_reason"`
			ContentFilterResults map[string]any `json:"content_filter_results"`
		}
	}
	decode(t, b, &resp)
	if status != 200 || resp.Model != "gpt-4o-mini" || len(resp.PromptFilterResults) != 1 ||
		resp.Choices[0].ContentFilterResults["violence"] == nil || resp.Choices[0].FinishReason != "stop" {
		t.Errorf("answer %s", b)
	}
	_, _, b = f.azure(azureChat+"?api-version=2024-10-21", body, map[string]string{"X-Fake-Azure-Filter": "completion"})
	decode(t, b, &resp)
	if resp.Choices[0].FinishReason != "content_filter" {
		t.Errorf("completion filter: %s", b)
	}
	status, _, b = f.azure(azureChat+"?api-version=2024-10-21", body, map[string]string{"X-Fake-Azure-Filter": "prompt"})
	var e struct {
		Error struct {
			Code, Param string
			InnerError  struct{ Code string } `json:"innererror"`
		}
	}
	decode(t, b, &e)
	if status != 400 || e.Error.Code != "content_filter" || e.Error.Param != "prompt" || e.Error.InnerError.Code != "ResponsibleAIPolicyViolation" {
		t.Errorf("prompt filter: %d %s", status, b)
	}
}

// TestAzureStream checks the stream opens with Azure's prompt-filter chunk (empty
// choices, id and model), then OpenAI's chunks with content_filter_results.
func TestAzureStream(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{testKey}, Chunks: 3})
	status, _, b := f.azure(azureChat+"?api-version=2024-10-21",
		`{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`, nil)
	if status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
	events := sseData(t, b)
	if !strings.HasPrefix(events[0], `{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[`) {
		t.Errorf("first event %s", events[0])
	}
	if !strings.Contains(events[1], `"content_filter_results":{}`) || !strings.Contains(events[2], `"violence":{"filtered":false`) {
		t.Errorf("chunks lack content_filter_results: %s %s", events[1], events[2])
	}
	if n := len(events); events[n-1] != "[DONE]" || !strings.Contains(events[n-2], `"usage":{`) {
		t.Errorf("stream end %q", events[n-2:])
	}
}

// TestAzureErrors checks Azure's own error bodies and rate-limit headers.
func TestAzureErrors(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{testKey}})
	status, _, b := f.call(req{path: azureChat + "?api-version=2024-10-21", body: `{}`, noAuth: true,
		headers: map[string]string{"api-key": "wr0ng-key-9"}})
	if status != 401 || !strings.Contains(string(b), `"code":"401"`) || strings.Contains(string(b), "wr0ng-key-9") {
		t.Errorf("bad key: %d %s", status, b)
	}
	status, h, b := f.azure(azureChat+"?api-version=2024-10-21", `{"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"X-Fake-Error-Status": "429"})
	if status != 429 || h.Get("retry-after") == "" || h.Get("retry-after-ms") == "" || !strings.Contains(string(b), `"code":"429"`) {
		t.Errorf("429: %d %v %s", status, h, b)
	}
}
