package cohere

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkStream measures translating a recorded Cohere stream (fake_text.sse) to
// OpenAI chunks, per stream.
func BenchmarkStream(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "streams", "fake_text.sse"))
	if err != nil {
		b.Fatal(err)
	}
	c := testClient(b, "")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		st := newTestStream(c, raw)
		for {
			if _, err := st.Next(); err != nil {
				break
			}
		}
	}
}
