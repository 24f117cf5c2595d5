package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
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
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const goldenCreated = 1700000000

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	providertest.Golden(t, filepath.Join("testdata", name), got, *update)
}

func files(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(m) == 0 {
		t.Fatalf("no testdata matches %s", pattern)
	}
	return m
}

// replay translates a recorded Anthropic stream and renders what a client gets: one
// line per chunk, then how the stream ended and its usage.
func replay(t *testing.T, sse []byte, includeUsage bool) ([]byte, [][]byte, error) {
	call := &providers.Call{Request: &schema.Request{Endpoint: schema.EndpointChat, Stream: true, IncludeUsage: includeUsage},
		Key: schema.NewSecret(testKey)}
	st := newStream(t.Context(), io.NopCloser(bytes.NewReader(sse)), call, goldenCreated)
	defer st.Close()
	chunks, end := providertest.Drain(t, st)
	var out bytes.Buffer
	for _, b := range chunks {
		fmt.Fprintf(&out, "data: %s\n", b)
	}
	var e *apierr.Error
	switch {
	case errors.Is(end, io.EOF):
		out.WriteString("end: EOF\n")
	case errors.As(end, &e):
		fmt.Fprintf(&out, "end: error status=%d type=%s code=%s retryable=%v message=%q\n", e.Status, e.Type, e.Code, e.Retryable, e.Message)
	}
	u, ok := st.Usage()
	fmt.Fprintf(&out, "usage: %v %+v\n", ok, u)
	return out.Bytes(), chunks, end
}

// TestStreamGolden pins the translation of recorded Anthropic streams, with and without
// the client's include_usage, and has go-openai parse every stream that ends cleanly.
func TestStreamGolden(t *testing.T) {
	for _, path := range files(t, "streams/*.sse") {
		name := strings.TrimSuffix(filepath.Base(path), ".sse")
		t.Run(name, func(t *testing.T) {
			sse, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, include := range []bool{true, false} {
				got, chunks, end := replay(t, sse, include)
				suffix := map[bool]string{true: ".usage.golden", false: ".nousage.golden"}[include]
				golden(t, "streams/"+name+suffix, got)
				if errors.Is(end, io.EOF) {
					providertest.CheckChunks(t, chunks, include)
				}
			}
		})
	}
}

// TestRequestGolden pins the translation of OpenAI requests into Messages requests.
func TestRequestGolden(t *testing.T) {
	for _, path := range files(t, "requests/*.openai.json") {
		name := strings.TrimSuffix(filepath.Base(path), ".openai.json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var req schema.ChatRequest
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatal(err)
			}
			mr, err := buildRequest(&req, "claude-sonnet-4-5-20250929", req.Stream)
			if err != nil {
				t.Fatalf("buildRequest: %v", err)
			}
			got, _ := json.MarshalIndent(mr, "", "  ")
			golden(t, "requests/"+name+".anthropic.golden", append(got, '\n'))
		})
	}
}

// TestResponseGolden pins the translation of recorded Messages answers.
func TestResponseGolden(t *testing.T) {
	for _, path := range files(t, "responses/*.json") {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := translateResponse(body, goldenCreated, nil)
			if err != nil {
				t.Fatalf("translateResponse: %v", err)
			}
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, resp.Body, "", "  ")
			fmt.Fprintf(&pretty, "\nusage: %+v\n", resp.Usage)
			golden(t, "responses/"+name+".golden", pretty.Bytes())
		})
	}
}

// TestTranslationsAcceptedByFake sends every recorded request through the provider to
// fakellm's Anthropic dialect, which refuses what the Messages API refuses.
func TestTranslationsAcceptedByFake(t *testing.T) {
	fake := fakellm.New(fakellm.Options{Keys: []string{testKey}, Models: []string{"*"}})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	for _, path := range files(t, "requests/*.openai.json") {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		call := chatCall(string(body))
		call.Request.Stream = bytes.Contains(body, []byte(`"stream":true`))
		if call.Request.Stream {
			st, err := c.Stream(t.Context(), call)
			if err == nil {
				_, err = drainStream(st)
			}
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s streamed: %v", path, err)
			}
			continue
		}
		if _, err := c.Complete(t.Context(), call); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func drainStream(st schema.Stream) (int, error) {
	defer st.Close()
	for n := 0; ; n++ {
		if _, err := st.Next(); err != nil {
			return n, err
		}
	}
}
