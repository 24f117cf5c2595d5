package cohere

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// FuzzCohereStream: any body read as a Cohere v2 stream ends in io.EOF or an
// *apierr.Error, without panicking or hanging, and every chunk is an OpenAI chunk.
func FuzzCohereStream(f *testing.F) {
	providertest.Seeds(f, "streams/*.sse")
	f.Add([]byte("data: {\"type\":\"tool-call-delta\",\"index\":-3,\"delta\":{\"message\":{\"tool_calls\":[]}}}\n\n"))
	f.Add([]byte("data: {\"type\":\"message-end\",\"delta\":{\"usage\":{\"tokens\":{\"input_tokens\":1e300}}}}\n\ndata: [DONE]\n\n"))
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, in []byte) {
		st := newTestStream(c, in)
		defer st.Close()
		for n := 0; ; n++ {
			b, err := st.Next()
			if err != nil {
				var e *apierr.Error
				if !errors.Is(err, io.EOF) && (!errors.As(err, &e) || e.Status < 400 || e.Message == "") {
					t.Fatalf("Next: %T %v", err, err)
				}
				if _, again := st.Next(); !errors.Is(again, err) {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				if u, _ := st.Usage(); u.PromptTokens < 0 || u.CompletionTokens < 0 || u.CachedTokens > u.PromptTokens {
					t.Fatalf("usage %+v", u)
				}
				return
			}
			var chunk schema.ChatChunk
			if err := json.Unmarshal(b, &chunk); err != nil || chunk.Object != "chat.completion.chunk" {
				t.Fatalf("chunk %d is not an OpenAI chunk: %v: %s", n, err, b)
			}
			if n > len(in)+2 {
				t.Fatalf("%d chunks from %d bytes", n, len(in))
			}
		}
	})
}

// FuzzCohereResponse: any body read as a whole /v2/chat answer, or as an error body,
// gives an OpenAI chat completion or an *apierr.Error, without panicking.
func FuzzCohereResponse(f *testing.F) {
	providertest.Seeds(f, "responses/*.cohere.json")
	f.Add([]byte(`{"message":"invalid api token"}`))
	f.Add([]byte(`{"id":"x","finish_reason":"ERROR"}`))
	f.Add([]byte(`{"id":"x","usage":{"billed_units":{"input_tokens":-1,"output_tokens":1e99},"cached_tokens":5}}`))
	c := testClient(f, "")
	key := schema.NewSecret(testKey)
	f.Fuzz(func(t *testing.T, in []byte) {
		resp, err := c.answer(in, "command-a-03-2025", key)
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadGateway {
				t.Fatalf("answer: %T %v", err, err)
			}
		} else {
			var cr schema.ChatResponse
			if err := json.Unmarshal(resp.Body, &cr); err != nil || len(cr.Choices) != 1 {
				t.Fatalf("not an OpenAI completion: %v: %s", err, resp.Body)
			}
			if u := resp.Usage; u.PromptTokens < 0 || u.CompletionTokens < 0 || u.CachedTokens > u.PromptTokens {
				t.Fatalf("usage %+v", u)
			}
		}
		for _, status := range []int{400, 498, 499, 503} {
			e := statusError(context.Background(), status, http.Header{}, in, key, fixedNow)
			if e.Status < 400 || e.Status > 599 || e.Message == "" || e.Type == "" {
				t.Fatalf("statusError(%d): %+v", status, e)
			}
		}
	})
}
