package cohere

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// streamCall is a streamed chat call that asks for the usage chunk.
func streamCall() *providers.Call {
	return &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, Stream: true, IncludeUsage: true},
		Model: "command-a-03-2025", Key: schema.NewSecret(testKey)}
}

func newTestStream(c *Client, raw []byte) *stream {
	return c.newStream(context.Background(), io.NopCloser(bytes.NewReader(raw)), streamCall())
}

// translate runs a raw Cohere SSE body through the stream and renders every chunk, the
// final usage and how the stream ended, one per line.
func translate(t testing.TB, c *Client, raw []byte) []byte {
	st := newTestStream(c, raw)
	defer st.Close()
	return providertest.Transcript(t, st, func(e *apierr.Error) string {
		return fmt.Sprintf("status %d type %s code %s retryable %v: %s", e.Status, e.Type, e.Code, e.Retryable, e.Message)
	})
}

// TestStreamGolden pins the translation of Cohere SSE bodies (testdata/streams/*.sse)
// to OpenAI chunks (*.chunks): text with and without event: lines and [DONE], thinking
// and citations left out, parallel tool calls, ERROR at message-end, error objects,
// streams cut short and garbage.
func TestStreamGolden(t *testing.T) {
	c := testClient(t, "")
	providertest.GoldenFiles(t, "streams", ".sse", ".chunks", *update, func(t *testing.T, raw []byte) []byte {
		return translate(t, c, raw)
	})
}

// TestRecordedFakeStreams pins what fakellm's Cohere dialect sends for a text answer
// and a tool call (with cache knobs), recorded in testdata/streams/fake_*.sse and
// translated by TestStreamGolden.
func TestRecordedFakeStreams(t *testing.T) {
	fake := fakellm.New(fakellm.Options{Keys: []string{testKey}, Models: []string{"*"}, Chunks: 4})
	ts := httptest.NewServer(fake)
	defer ts.Close()
	c := testClient(t, ts.URL)
	c.headers.Set("X-Fake-Cached-Tokens", "30")
	c.headers.Set("X-Fake-Cache-Write-Tokens", "5")
	for _, r := range []struct{ name, body string }{
		{"fake_text", `{"model":"m","messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"Say hello"}]}`},
		{"fake_tool", `{"model":"m","messages":[{"role":"user","content":"Please call tool get_weather"}],` +
			`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`},
	} {
		call := streamCall()
		call.Request.Body = []byte(r.body)
		body, err := chatBody(call, true)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.send(context.Background(), call, "/v2/chat", body, "text/event-stream")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(raw), "event: message-start\ndata: ") || !strings.HasSuffix(string(raw), "data: [DONE]\n\n") {
			t.Errorf("%s: not Cohere's framing: %.300s", r.name, raw)
		}
		providertest.Golden(t, filepath.Join("testdata", "streams", r.name+".sse"), raw, *update)
	}
}
