package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

func addStreamSeeds(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.sse"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("data: {\"choices\":[],\"usage\":null}\n\ndata: [DONE]\n\n"))
	f.Add([]byte(": keep-alive\r\ndata:{\"error\":{\"message\":\"x\"}}\r\n\r\n"))
	f.Add([]byte("<html>502</html>"))
}

// FuzzOpenAIStream: any upstream bytes end in io.EOF or an *apierr.Error within a
// bounded number of chunks, without panicking; every chunk relayed from a valid JSON
// payload is still valid JSON after the usage edits; and a client that did not ask for
// usage never sees a usage-only chunk.
func FuzzOpenAIStream(f *testing.F) {
	addStreamSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		// The usage properties hold for well-formed upstreams: JSON payloads with at
		// most one usage member each.
		wellFormed := allPayloadsJSON(in) && !repeatsUsage(in)
		for _, include := range []bool{false, true} {
			call := &providers.Call{Request: &schema.Request{Stream: true, IncludeUsage: include}, Key: schema.NewSecret("sk-fuzz")}
			s := newStream(context.Background(), io.NopCloser(bytes.NewReader(in)), call)
			for i := 0; ; i++ {
				if i > len(in)+1 {
					t.Fatal("more chunks than input bytes")
				}
				chunk, err := s.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					var e *apierr.Error
					if !errors.As(err, &e) {
						t.Fatalf("untyped error %T: %v", err, err)
					}
					break
				}
				if !gjson.ValidBytes(chunk) {
					// The relay passes payloads through; it must not break valid ones.
					if allPayloadsJSON(in) {
						t.Fatalf("relayed chunk is no longer JSON: %q", chunk)
					}
					continue
				}
				if !include && wellFormed {
					doc := gjson.ParseBytes(chunk)
					if u := doc.Get("usage"); u.IsObject() && doc.Get("choices").IsArray() && len(doc.Get("choices").Array()) == 0 {
						t.Fatalf("usage-only chunk reached a client that did not ask: %s", chunk)
					}
					if u := doc.Get("usage"); u.Exists() && u.Type == gjson.Null {
						t.Fatalf("usage:null left for a client that did not ask: %s", chunk)
					}
				}
			}
			s.Close()
		}
	})
}

// allPayloadsJSON reports whether every data payload in the input, but [DONE], is
// valid JSON. Non-JSON payloads are passed through as they are, by design.
func allPayloadsJSON(in []byte) bool {
	for _, line := range bytes.Split(in, []byte("\n")) {
		p, ok := dataPayload(bytes.TrimRight(line, "\r"))
		if ok && string(p) != "[DONE]" && !gjson.ValidBytes(p) {
			return false
		}
	}
	return true
}

func repeatsUsage(in []byte) bool {
	for _, line := range bytes.Split(in, []byte("\n")) {
		if bytes.Count(line, []byte(`"usage"`)) > 1 {
			return true
		}
	}
	return false
}

// FuzzOpenAIResponse: any 2xx body either is rejected with a typed error or yields
// non-negative usage, without panicking.
func FuzzOpenAIResponse(f *testing.F) {
	f.Add([]byte(`{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":1}}}`))
	f.Add([]byte(`{"object":"error","message":"bad","code":400}`))
	f.Add([]byte(`{"error":{"message":"m","type":"t","code":429}}`))
	f.Add([]byte(`{"usage":{"prompt_cache_hit_tokens":"7"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !gjson.ValidBytes(body) {
			return
		}
		if e := embeddedError(body, schema.NewSecret("sk-fuzz")); e != nil {
			if e.Status < 400 || e.Status > 599 {
				t.Fatalf("embedded error with status %d", e.Status)
			}
			return
		}
		u, _ := usageOf(string(body))
		if u.PromptTokens < 0 && gjson.GetBytes(body, "usage.prompt_tokens").Int() >= 0 {
			t.Fatalf("negative usage from a non-negative field: %+v", u)
		}
	})
}
