package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestNewBaseURL: the base URL is the origin; a version path at its end sets the API
// version, as does Config.APIVersion; URLs that cannot be an origin are refused.
func TestNewBaseURL(t *testing.T) {
	tests := []struct {
		base, version, wantURL string
	}{
		{"", "", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"},
		{"https://proxy.example/", "", "https://proxy.example/v1beta/models/gemini-2.5-flash:generateContent"},
		{"https://proxy.example/v1", "", "https://proxy.example/v1/models/gemini-2.5-flash:generateContent"},
		{"https://proxy.example/gemini/v1beta/", "", "https://proxy.example/gemini/v1beta/models/gemini-2.5-flash:generateContent"},
		{"https://proxy.example", "v1", "https://proxy.example/v1/models/gemini-2.5-flash:generateContent"},
	}
	for _, tt := range tests {
		p, err := New(providers.Config{Name: "g", BaseURL: tt.base, APIVersion: tt.version})
		if err != nil {
			t.Fatalf("%q: %v", tt.base, err)
		}
		if got := p.(*Client).url("gemini-2.5-flash", "generateContent", ""); got != tt.wantURL {
			t.Errorf("%q %q: url %s, want %s", tt.base, tt.version, got, tt.wantURL)
		}
	}
	if got := testClient(t, "").url("tunedModels/my-model", "streamGenerateContent", "alt=sse"); got !=
		"https://generativelanguage.googleapis.com/v1beta/tunedModels/my-model:streamGenerateContent?alt=sse" {
		t.Errorf("resource name url %s", got)
	}
	for _, bad := range []string{"ftp://x", "https://x/?key=abc", "not a url", "https://"} {
		if _, err := New(providers.Config{Name: "g", BaseURL: bad}); err == nil {
			t.Errorf("New(%q): no error", bad)
		}
	}
}

// TestUnsupportedEndpoints: legacy completions are a 400 unsupported_endpoint naming
// gemini, for Complete and Stream, and embeddings cannot be streamed.
func TestUnsupportedEndpoints(t *testing.T) {
	c := testClient(t, "http://127.0.0.1:1")
	call := chatCall(`{"prompt":"hi"}`, testKey)
	call.Request.Endpoint = schema.EndpointCompletions
	_, err1 := c.Complete(context.Background(), call)
	_, err2 := c.Stream(context.Background(), call)
	call.Request.Endpoint = schema.EndpointEmbeddings
	_, err3 := c.Stream(context.Background(), call)
	providertest.WantUnsupported(t, "gemini", err1, err2, err3)
}

func embedCall(body string) *providers.Call {
	return &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointEmbeddings, Body: []byte(body)},
		Model: "gemini-embedding-001", Key: schema.NewSecret(testKey)}
}

// TestEmbeddings: a string uses embedContent; arrays use batchEmbedContents in
// batches of 100, in order; dimensions become outputDimensionality; base64 decodes to
// the float vectors; token arrays are refused.
func TestEmbeddings(t *testing.T) {
	fake, c := fakeSetup(t, fakellm.Options{})
	inputs := make([]string, 150)
	for i := range inputs {
		inputs[i] = fmt.Sprintf("text number %d", i)
	}
	in, _ := json.Marshal(inputs)
	resp, err := c.Complete(context.Background(), embedCall(`{"model":"r","dimensions":4,"input":`+string(in)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	var er schema.EmbeddingResponse
	if err := json.Unmarshal(resp.Body, &er); err != nil || len(er.Data) != 150 {
		t.Fatalf("%v: %d embeddings", err, len(er.Data))
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || !strings.HasSuffix(reqs[0].Path, ":batchEmbedContents") ||
		!strings.Contains(string(reqs[0].Body), `"outputDimensionality":4`) {
		t.Fatalf("upstream requests: %d, first %s %s", len(reqs), reqs[0].Path, reqs[0].Body)
	}
	if resp.Usage.PromptTokens != 150*3 || !resp.HasUsage {
		t.Errorf("usage %+v, want 450 prompt tokens", resp.Usage)
	}
	var last []float32
	_ = json.Unmarshal(er.Data[149].Embedding, &last)
	single, err := c.Complete(context.Background(), embedCall(`{"model":"r","dimensions":4,"encoding_format":"base64","input":"text number 149"}`))
	if err != nil {
		t.Fatal(err)
	}
	if rec, _ := fake.LastRequest(); !strings.HasSuffix(rec.Path, ":embedContent") {
		t.Errorf("a string input went to %s", rec.Path)
	}
	var sr schema.EmbeddingResponse
	_ = json.Unmarshal(single.Body, &sr)
	want, _ := schema.EmbeddingVector(last, true)
	if len(last) != 4 || string(sr.Data[0].Embedding) != string(want) {
		t.Errorf("base64 single %s, want %s (the 150th batch vector)", sr.Data[0].Embedding, want)
	}
	for _, bad := range []string{`[[1,2,3]]`, `""`, `[]`, `["a",""]`, `42`} {
		_, err := c.Complete(context.Background(), embedCall(`{"model":"r","input":`+bad+`}`))
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != 400 || e.Param != "input" {
			t.Errorf("input %s: %v, want a 400 on input", bad, err)
		}
	}
}

// TestBlockedPromptAgainstFake: Gemini's 200 with promptFeedback and no candidates is
// an empty answer with finish_reason content_filter and the prompt's usage, streamed
// or not.
func TestBlockedPromptAgainstFake(t *testing.T) {
	_, c := fakeSetup(t, fakellm.Options{})
	body := `{"model":"r","messages":[{"role":"user","content":"please block prompt now"}]}`
	resp, err := c.Complete(context.Background(), chatCall(body, testKey))
	if err != nil {
		t.Fatal(err)
	}
	var cr schema.ChatResponse
	_ = json.Unmarshal(resp.Body, &cr)
	if len(cr.Choices) != 1 || cr.Choices[0].FinishReason != "content_filter" || cr.Choices[0].Message.Content != nil ||
		!resp.HasUsage || resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens != 0 {
		t.Errorf("blocked: %s", resp.Body)
	}
	st, err := c.Stream(context.Background(), chatCall(body, testKey))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var last []byte
	for {
		b, err := st.Next()
		if err != nil {
			break
		}
		last = append(last[:0], b...)
	}
	if !strings.Contains(string(last), `"finish_reason":"content_filter"`) {
		t.Errorf("last streamed chunk %s", last)
	}
}

// TestStreamNotSSE: an answer that is not an event stream is an error: Google's JSON
// error when it is one, else a 502.
func TestStreamNotSSE(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "quota") {
			_, _ = w.Write([]byte(`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`))
			return
		}
		_, _ = w.Write([]byte(`[{"candidates":[]}]`))
	}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	for model, want := range map[string]int{"quota": 429, "array": 502} {
		call := chatCall(helloBody, testKey)
		call.Model = model
		_, err := c.Stream(context.Background(), call)
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != want {
			t.Errorf("%s: %v, want %d", model, err, want)
		}
	}
}
