package anthropic

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// longStream is a recorded-shape stream with n text deltas.
func longStream(n int) []byte {
	var b bytes.Buffer
	b.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\"," +
		"\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n")
	b.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	for i := range n {
		fmt.Fprintf(&b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" word%d\"}}\n\n", i)
	}
	b.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	fmt.Fprintf(&b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%d}}\n\n", n)
	b.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	return b.Bytes()
}

// BenchmarkStreamTranslate measures translating one 1000-delta stream into OpenAI
// chunks; b.N streams, SetBytes the upstream bytes.
func BenchmarkStreamTranslate(b *testing.B) {
	data := longStream(1000)
	call := &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, IncludeUsage: true}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		st := newStream(b.Context(), io.NopCloser(bytes.NewReader(data)), call, 1)
		for {
			if _, err := st.Next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkResponseTranslate measures translating a recorded non-streamed answer.
func BenchmarkResponseTranslate(b *testing.B) {
	body, err := os.ReadFile("testdata/responses/tool_use.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := translateResponse(body, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}
