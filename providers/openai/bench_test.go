package openai

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
)

// benchBody is a typical chat request of about 2 KiB.
var benchBody = `{"model":"my-route","messages":[{"role":"system","content":"` + strings.Repeat("You are terse. ", 40) +
	`"},{"role":"user","content":"` + strings.Repeat("Tell me about Paris. ", 60) + `"}],"temperature":0.2,` +
	`"max_completion_tokens":512,"tools":[{"type":"function","function":{"name":"get_weather","parameters":` +
	`{"type":"object","properties":{"city":{"type":"string"}}}}}],"metadata":{"team":"search"},"stream":true}`

func BenchmarkPassthroughBody(b *testing.B) {
	for _, bc := range []struct {
		name, typ string
		stream    bool
	}{{"complete", "openai", false}, {"stream", "openai", true}, {"stream_mistral", "mistral", true}} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := New(providers.Config{Type: bc.typ})
			if err != nil {
				b.Fatal(err)
			}
			c := p.(*Client)
			body := benchBody
			if !bc.stream {
				body = strings.Replace(body, `,"stream":true`, "", 1)
			}
			call := chatCall(body, false)
			b.SetBytes(int64(len(benchBody)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.requestBody(call, bc.stream); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loopReader replays the same SSE bytes forever, so the benchmark measures Next alone.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.off == len(l.data) {
		l.off = 0
	}
	n := copy(p, l.data[l.off:])
	l.off += n
	return n, nil
}

func (l *loopReader) Close() error { return nil }

func BenchmarkStreamRelay(b *testing.B) {
	// The recorded OpenAI stream without its [DONE] line: every Next yields a chunk.
	sse := strings.Replace(string(mustRead(b, "testdata/openai_text.sse")), "data: [DONE]\n\n", "", 1)
	for _, includeUsage := range []bool{true, false} {
		b.Run(map[bool]string{true: "client_asked_usage", false: "usage_stripped"}[includeUsage], func(b *testing.B) {
			s := newStream(context.Background(), &loopReader{data: []byte(sse)}, chatCall(`{}`, includeUsage))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustRead(b *testing.B, path string) []byte {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
