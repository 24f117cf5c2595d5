package gemini

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
	"github.com/tollgate-llm/tollgate/schema"
)

// streamCall is a streamed chat call that asks for the usage chunk.
func streamCall() *providers.Call {
	return &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, Stream: true, IncludeUsage: true},
		Model: "gemini-2.5-flash", Key: schema.NewSecret(testKey)}
}

// translate runs a raw Gemini SSE body through the stream and renders every chunk, the
// final usage and how the stream ended, one per line.
func translate(t testing.TB, c *Client, raw []byte) []byte {
	st := c.newStream(context.Background(), io.NopCloser(bytes.NewReader(raw)), streamCall())
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
				fmt.Fprintf(&out, "# error: status %d type %s code %s retryable %v retry-after %v: %s\n",
					e.Status, e.Type, e.Code, e.Retryable, e.RetryAfter, e.Message)
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

// TestStreamGolden pins the translation of Gemini SSE bodies (testdata/streams/*.sse)
// to OpenAI chunks (*.chunks): text with thoughts left out, whole function calls,
// blocked prompts, several candidates, errors sent as raw JSON lines or data: events,
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

// TestRecordedFakeStreams pins what fakellm's Gemini dialect sends for a text answer
// and a function call (with cache and reasoning knobs), recorded in
// testdata/streams/fake_*.sse and translated by TestStreamGolden.
func TestRecordedFakeStreams(t *testing.T) {
	fake := fakellm.New(fakellm.Options{Keys: []string{testKey}, Models: []string{"*"}, Chunks: 4})
	ts := httptest.NewServer(fake)
	defer ts.Close()
	c := testClient(t, ts.URL)
	c.headers.Set("X-Fake-Cached-Tokens", "30")
	c.headers.Set("X-Fake-Reasoning-Tokens", "6")
	for _, r := range []struct{ name, body string }{
		{"fake_text", `{"model":"m","messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"Say hello"}]}`},
		{"fake_tool", `{"model":"m","messages":[{"role":"user","content":"Please call tool get_weather"}],` +
			`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`},
	} {
		name, body := r.name, r.body
		call := streamCall()
		call.Request.Body = []byte(body)
		gb, err := c.chatBody(call)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.send(context.Background(), call, "streamGenerateContent", "alt=sse", gb)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(raw), "data: ") || strings.Contains(string(raw), "[DONE]") {
			t.Errorf("%s: not alt=sse framing (data: lines, no [DONE]): %.200s", name, raw)
		}
		golden(t, filepath.Join("testdata", "streams", name+".sse"), raw)
	}
}
