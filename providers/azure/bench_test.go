package azure

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// BenchmarkDropChunk measures the annotation filter on Azure's common chunk: content
// with content_filter_results, which must pass.
func BenchmarkDropChunk(b *testing.B) {
	chunk := []byte(`{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":" there"},"finish_reason":null,"index":0,"logprobs":null}],"created":1736407895,"id":"chatcmpl-AnhIt2rw8vL8czymkCwEOKKTg7HPc","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","system_fingerprint":"fp_5154047bf2","usage":null}`)
	b.ReportAllocs()
	for b.Loop() {
		if dropChunk(chunk) {
			b.Fatal("dropped a content chunk")
		}
	}
}

// BenchmarkStreamRelay relays a 200-chunk Azure stream from memory through the
// provider: per-chunk cost of the passthrough plus Azure's filter.
func BenchmarkStreamRelay(b *testing.B) {
	var sse strings.Builder
	lines := strings.SplitAfter(string(readTestdata(b, "azure_text.sse")), "\n\n")
	sse.WriteString(lines[0] + lines[1])
	for range 200 {
		sse.WriteString(lines[2])
	}
	sse.WriteString(strings.Join(lines[4:], ""))
	body := []byte(sse.String())
	p, err := New(providers.Config{Name: "b", Type: "azure", BaseURL: "https://res.openai.azure.com",
		Client: &http.Client{Transport: replayTransport{body: body}}})
	if err != nil {
		b.Fatal(err)
	}
	c := call(schema.EndpointChat, `{"model":"m","stream":true}`, false)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		s, err := p.Stream(context.Background(), c)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := s.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n != 202 {
			b.Fatalf("%d chunks", n)
		}
		s.Close()
	}
}
