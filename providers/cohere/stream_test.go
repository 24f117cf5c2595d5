package cohere

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/sse"
	"github.com/tollgate-llm/tollgate/schema"
)

// streamCall is a streamed chat call that asks for the usage chunk.
func streamCall() *providers.Call {
	return &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, Stream: true, IncludeUsage: true},
		Model: "command-a-03-2025", Key: schema.NewSecret(testKey)}
}

func newTestStream(c *Client, raw []byte) *stream {
	body := io.NopCloser(bytes.NewReader(raw))
	call := streamCall()
	return &stream{ctx: context.Background(), body: body, r: sse.NewReader(body, 0), key: call.Key, now: c.now,
		includeUsage: true, model: call.Model, calls: map[int]int{}}
}

// translate runs a raw Cohere SSE body through the stream and renders every chunk, the
// final usage and how the stream ended, one per line.
func translate(t testing.TB, c *Client, raw []byte) []byte {
	st := newTestStream(c, raw)
	defer st.Close()
	var out bytes.Buffer
	for n := 0; ; n++ {
		b, err := st.Next()
		if err != nil {
			u, ok := st.Usage()
			fmt.Fprintf(&out, "# usage %v: %+v\n", ok, u)
			var e *apierr.Error
			switch {
			case errors.Is(err, io.EOF):
				out.WriteString("# end: EOF\n")
			case errors.As(err, &e):
				fmt.Fprintf(&out, "# error: status %d type %s code %s retryable %v: %s\n",
					e.Status, e.Type, e.Code, e.Retryable, e.Message)
			default:
				t.Fatalf("Next: %T %v is neither io.EOF nor *apierr.Error", err, err)
			}
			return out.Bytes()
		}
		out.Write(b)
		out.WriteByte('\n')
		if n > 10000 {
			t.Fatal("the stream does not end")
		}
	}
}

// TestStreamGolden pins the translation of Cohere SSE bodies (testdata/streams/*.sse)
// to OpenAI chunks (*.chunks): text with and without event: lines and [DONE], thinking
// and citations left out, parallel tool calls, ERROR at message-end, error objects,
// streams cut short and garbage.
func TestStreamGolden(t *testing.T) {
	c := testClient(t, "")
	for _, name := range cases(t, "streams", ".sse") {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "streams", name+".sse"))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "streams", name+".chunks"), translate(t, c, raw))
		})
	}
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
		golden(t, filepath.Join("testdata", "streams", r.name+".sse"), raw)
	}
}
