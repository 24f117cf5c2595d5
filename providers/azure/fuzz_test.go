package azure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// replayTransport answers every request with body as a 200 event stream, in memory.
type replayTransport struct{ body []byte }

func (rt replayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(bytes.NewReader(rt.body)), Request: r}, nil
}

// FuzzAzureStream relays arbitrary bytes as an Azure stream through the provider: no
// panic, no hang, chunks are JSON and never one of the annotations that are withheld,
// and the stream ends with io.EOF or an *apierr.Error.
func FuzzAzureStream(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sse"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b, true)
		f.Add(b[:len(b)/2], false)
	}
	f.Fuzz(func(t *testing.T, data []byte, includeUsage bool) {
		p, err := New(providers.Config{Name: "fuzz", Type: "azure", BaseURL: "https://res.openai.azure.com",
			Client: &http.Client{Transport: replayTransport{body: data}}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := p.Stream(context.Background(), call(schema.EndpointChat, `{"model":"m","stream":true}`, includeUsage))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for {
			b, err := s.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var e *apierr.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *apierr.Error", err)
				}
				return
			}
			if gjson.ValidBytes(b) && dropChunk(b) {
				t.Fatalf("an annotation chunk reached the client: %s", b)
			}
		}
	})
}

// TestWriteFuzzCorpus writes the recorded streams to testdata/fuzz under -update.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzAzureStream")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sse"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		for j, seed := range [][]byte{b, b[:len(b)/2]} {
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(%v)\n", seed, j == 0)
			name := fmt.Sprintf("seed-%s-%d", strings.TrimSuffix(filepath.Base(file), ".sse"), j)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
