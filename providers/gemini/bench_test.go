package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tollgate-llm/tollgate/schema"
)

// BenchmarkStream measures translating a recorded Gemini stream (text.sse) to OpenAI
// chunks, per stream.
func BenchmarkStream(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "streams", "text.sse"))
	if err != nil {
		b.Fatal(err)
	}
	c := testClient(b, "")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		st := c.newStream(context.Background(), io.NopCloser(bytes.NewReader(raw)), streamCall())
		for {
			if _, err := st.Next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkRequest measures translating an OpenAI request with tools, images and a
// schema (testdata/requests/tools.openai.json) to a Gemini body.
func BenchmarkRequest(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "requests", "tools.openai.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var req schema.ChatRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			b.Fatal(err)
		}
		g, err := chatRequest(&req, req.Model)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(g); err != nil {
			b.Fatal(err)
		}
	}
}
