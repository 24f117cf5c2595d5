package gemini

import (
	"bytes"
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

// FuzzGeminiStream: any body read as a Gemini SSE stream ends in io.EOF or an
// *apierr.Error, without panicking or hanging, and every chunk is an OpenAI chunk.
func FuzzGeminiStream(f *testing.F) {
	providertest.Seeds(f, "streams/*.sse")
	f.Add([]byte("data: {\"candidates\":[{\"index\":-1,\"finishReason\":\"STOP\"}]}\n\n"))
	f.Add([]byte("{\n\"error\": {\"code\": 99999}\n}\n"))
	c := testClient(f, "")
	f.Fuzz(func(t *testing.T, in []byte) {
		st := c.newStream(context.Background(), io.NopCloser(bytes.NewReader(in)), streamCall())
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
				return
			}
			var chunk schema.ChatChunk
			if err := json.Unmarshal(b, &chunk); err != nil || chunk.Object != "chat.completion.chunk" {
				t.Fatalf("chunk %d is not an OpenAI chunk: %v: %s", n, err, b)
			}
			if n > 4*len(in)+8 {
				t.Fatalf("%d chunks from %d bytes", n, len(in))
			}
		}
	})
}

// FuzzGeminiResponse: any body read as a whole Gemini answer, or as an error body,
// gives an OpenAI chat completion or an *apierr.Error, without panicking.
func FuzzGeminiResponse(f *testing.F) {
	providertest.Seeds(f, "responses/*.gemini.json")
	f.Add([]byte(`{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`))
	f.Add([]byte(`{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-1e400s"}]}}`))
	f.Add([]byte(`{"candidates":null,"usageMetadata":{"promptTokenCount":-5}}`))
	c := testClient(f, "")
	key := schema.NewSecret(testKey)
	f.Fuzz(func(t *testing.T, in []byte) {
		resp, err := c.answer(in, "gemini-2.5-flash")
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadGateway {
				t.Fatalf("answer: %T %v", err, err)
			}
		} else {
			var cr schema.ChatResponse
			if err := json.Unmarshal(resp.Body, &cr); err != nil || len(cr.Choices) == 0 {
				t.Fatalf("not an OpenAI completion: %v: %s", err, resp.Body)
			}
		}
		e := statusError(400, http.Header{}, in, key, fixedNow)
		if e.Status < 400 || e.Status > 599 || e.Message == "" || e.RetryAfter < 0 {
			t.Fatalf("statusError: %+v", e)
		}
		if e := embeddedError(in, key, fixedNow); e != nil && (e.Status < 400 || e.Message == "") {
			t.Fatalf("embeddedError: %+v", e)
		}
	})
}
