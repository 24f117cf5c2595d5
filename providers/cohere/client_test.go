package cohere

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestNewBaseURL: the base URL is the origin; a version suffix is dropped; URLs that
// cannot be an origin are refused.
func TestNewBaseURL(t *testing.T) {
	for base, want := range map[string]string{
		"": "https://api.cohere.com", "https://proxy.example/": "https://proxy.example",
		"https://proxy.example/v2": "https://proxy.example", "https://proxy.example/cohere/v1/": "https://proxy.example/cohere",
	} {
		p, err := New(providers.Config{Name: "c", BaseURL: base})
		if err != nil {
			t.Fatalf("%q: %v", base, err)
		}
		if got := p.(*Client).base; got != want {
			t.Errorf("%q: base %q, want %q", base, got, want)
		}
	}
	for _, bad := range []string{"ftp://x", "https://x/?a=b", "::", "https://"} {
		if _, err := New(providers.Config{Name: "c", BaseURL: bad}); err == nil {
			t.Errorf("New(%q): no error", bad)
		}
	}
}

// TestUnsupportedEndpoints: legacy completions are a 400 unsupported_endpoint naming
// cohere, for Complete and Stream.
func TestUnsupportedEndpoints(t *testing.T) {
	c := testClient(t, "http://127.0.0.1:1")
	call := chatCall(`{"prompt":"hi"}`, testKey)
	call.Request.Endpoint = schema.EndpointCompletions
	_, err1 := c.Complete(context.Background(), call)
	_, err2 := c.Stream(context.Background(), call)
	providertest.WantUnsupported(t, "cohere", err1, err2)
}

func embedCall(body string) *providers.Call {
	return &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointEmbeddings, Body: []byte(body)},
		Model: "embed-v4.0", Key: schema.NewSecret(testKey)}
}

// TestEmbeddings: texts go to /v2/embed in batches of 96, as search documents asking
// for floats; dimensions become output_dimension; usage is the billed input; base64
// output decodes to the same floats; token arrays are refused.
func TestEmbeddings(t *testing.T) {
	fake, c := fakeSetup(t, fakellm.Options{})
	inputs := make([]string, 100)
	for i := range inputs {
		inputs[i] = fmt.Sprintf("document %d", i)
	}
	in, _ := json.Marshal(inputs)
	resp, err := c.Complete(context.Background(), embedCall(`{"model":"r","dimensions":256,"input":`+string(in)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	var er schema.EmbeddingResponse
	if err := json.Unmarshal(resp.Body, &er); err != nil || len(er.Data) != 100 || er.Data[99].Index != 99 {
		t.Fatalf("%v: %s", err, resp.Body[:min(len(resp.Body), 300)])
	}
	reqs := fake.Requests()
	var first struct {
		Texts           []string `json:"texts"`
		InputType       string   `json:"input_type"`
		EmbeddingTypes  []string `json:"embedding_types"`
		OutputDimension int      `json:"output_dimension"`
	}
	_ = json.Unmarshal(reqs[0].Body, &first)
	if len(reqs) != 2 || reqs[0].Path != "/v2/embed" || len(first.Texts) != 96 || first.InputType != "search_document" ||
		len(first.EmbeddingTypes) != 1 || first.EmbeddingTypes[0] != "float" || first.OutputDimension != 256 {
		t.Fatalf("%d upstream requests, first %s %s", len(reqs), reqs[0].Path, reqs[0].Body[:200])
	}
	if resp.Usage.PromptTokens != 200 || !resp.HasUsage || er.Usage.PromptTokens != 200 {
		t.Errorf("usage %+v, want 200 prompt tokens", resp.Usage)
	}
	var last []float32
	_ = json.Unmarshal(er.Data[99].Embedding, &last)
	single, err := c.Complete(context.Background(), embedCall(`{"model":"r","dimensions":256,"encoding_format":"base64","input":"document 99"}`))
	if err != nil {
		t.Fatal(err)
	}
	var sr schema.EmbeddingResponse
	_ = json.Unmarshal(single.Body, &sr)
	want, _ := schema.EmbeddingVector(last, true)
	if len(last) != 256 || string(sr.Data[0].Embedding) != string(want) {
		t.Errorf("base64 single embedding differs from the batch's float one")
	}
	for _, bad := range []string{`[[1,2]]`, `""`, `[]`, `{}`} {
		_, err := c.Complete(context.Background(), embedCall(`{"model":"r","input":`+bad+`}`))
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != 400 || e.Param != "input" {
			t.Errorf("input %s: %v, want a 400 on input", bad, err)
		}
	}
}

// TestNamedToolChoiceAgainstFake: a named tool_choice offers Cohere only that tool,
// REQUIRED, and the answer calls it.
func TestNamedToolChoiceAgainstFake(t *testing.T) {
	fake, c := fakeSetup(t, fakellm.Options{})
	body := `{"model":"r","messages":[{"role":"user","content":"What time is it?"}],"tools":[` +
		`{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},` +
		`{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}}}}],` +
		`"tool_choice":{"type":"function","function":{"name":"get_time"}}}`
	resp, err := c.Complete(context.Background(), chatCall(body, testKey))
	if err != nil {
		t.Fatal(err)
	}
	var cr schema.ChatResponse
	_ = json.Unmarshal(resp.Body, &cr)
	if calls := cr.Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].Function.Name != "get_time" ||
		cr.Choices[0].FinishReason != "tool_calls" || cr.Choices[0].Message.Content != nil {
		t.Errorf("answer %s", resp.Body)
	}
	rec, _ := fake.LastRequest()
	if !strings.Contains(string(rec.Body), `"tool_choice":"REQUIRED"`) || strings.Contains(string(rec.Body), "get_weather") {
		t.Errorf("upstream request %s", rec.Body)
	}
}
