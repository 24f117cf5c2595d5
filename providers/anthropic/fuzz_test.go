package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// FuzzAnthropicStream: any upstream bytes translate to valid OpenAI chunks and end
// with io.EOF or an *apierr.Error, without panicking or looping; a clean end has a
// finish_reason; and the fast path for deltas says exactly what the general path says.
func FuzzAnthropicStream(f *testing.F) {
	providertest.Seeds(f, "streams/*.sse")
	f.Add([]byte("event: ping\ndata: {\"type\":\"ping\"}\n\n"))
	f.Add([]byte("<html>502 Bad Gateway</html>"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, include := range []bool{false, true} {
			fast, fastEnd := fuzzReplay(t, in, include, false)
			slow, slowEnd := fuzzReplay(t, in, include, true)
			if !slices.Equal(fast, slow) || fastEnd != slowEnd {
				t.Fatalf("fast path %q (%s) differs from general path %q (%s)", fast, fastEnd, slow, slowEnd)
			}
		}
	})
}

// fuzzReplay translates in and returns every chunk, decoded and re-encoded, and how the
// stream ended.
func fuzzReplay(t *testing.T, in []byte, include, slow bool) ([]string, string) {
	call := &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, IncludeUsage: include}, Key: schema.NewSecret(testKey)}
	st := newStream(t.Context(), io.NopCloser(bytes.NewReader(in)), call, 1)
	st.slow = slow
	defer st.Close()
	var out []string
	finished := false
	for n := 0; ; n++ {
		b, err := st.Next()
		if errors.Is(err, io.EOF) {
			if !finished {
				t.Fatal("clean end without a finish_reason")
			}
			return out, "EOF"
		}
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status < 400 {
				t.Fatalf("error %T %v is not an error status", err, err)
			}
			return out, strconv.Itoa(e.Status)
		}
		if n > len(in) {
			t.Fatalf("%d chunks from %d bytes", n, len(in))
		}
		var c schema.ChatChunk
		if err := json.Unmarshal(b, &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s is not a chat.completion.chunk: %v", b, err)
		}
		if len(c.Choices) == 1 && c.Choices[0].FinishReason != nil {
			finished = true
		}
		again, _ := json.Marshal(c)
		out = append(out, string(again))
		if u, _ := st.Usage(); u.PromptTokens < 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
			t.Fatalf("usage %+v", u)
		}
	}
}

// FuzzAnthropicResponse: any body translates to an OpenAI chat completion or a 502,
// without panicking.
func FuzzAnthropicResponse(f *testing.F) {
	providertest.Seeds(f, "responses/*.json")
	f.Add([]byte(`{"type":"message","role":"assistant","content":[{"type":"tool_use","input":[1,2]}],"usage":{"input_tokens":1,"output_tokens":1}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		resp, err := translateResponse(in, 1, nil)
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status != 502 {
				t.Fatalf("error %T %v, want a 502 *apierr.Error", err, err)
			}
			return
		}
		var cr schema.ChatResponse
		if err := json.Unmarshal(resp.Body, &cr); err != nil || len(cr.Choices) != 1 || cr.Usage == nil {
			t.Fatalf("answer %s: %v", resp.Body, err)
		}
		for _, tc := range cr.Choices[0].Message.ToolCalls {
			if tc.Function.Arguments == "" {
				t.Fatalf("empty arguments in %s", resp.Body)
			}
		}
	})
}
