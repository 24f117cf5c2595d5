package openai

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestStreamGolden replays recorded upstream streams and compares what Next returns,
// how the stream ends and the usage captured with golden transcripts.
func TestStreamGolden(t *testing.T) {
	tests := []struct {
		file      string
		wantUsage schema.Usage
		hasUsage  bool
		wantEnd   string // "EOF" or the error's status and code
	}{
		{"openai_text.sse", schema.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29, CachedTokens: 3, ReasoningTokens: 4}, true, "EOF"},
		{"openai_tools.sse", schema.Usage{PromptTokens: 82, CompletionTokens: 17, TotalTokens: 99}, true, "EOF"},
		{"openrouter.sse", schema.Usage{PromptTokens: 12, CompletionTokens: 2, TotalTokens: 14}, true, "EOF"},
		{"groq.sse", schema.Usage{PromptTokens: 40, CompletionTokens: 5, TotalTokens: 45}, true, "EOF"},
		{"deepseek.sse", schema.Usage{PromptTokens: 64, CompletionTokens: 30, TotalTokens: 94, CachedTokens: 48, ReasoningTokens: 21}, true, "EOF"},
		{"openrouter_error.sse", schema.Usage{}, false, "502 server_error: Provider disconnected unexpectedly"},
		{"vllm_error.sse", schema.Usage{}, false, "400 400: The decoder prompt (length 9000) is longer than the maximum model length of 8192."},
		{"truncated.sse", schema.Usage{}, false, "502 upstream_error: upstream closed the stream early"},
	}
	for _, tt := range tests {
		for _, includeUsage := range []bool{true, false} {
			mode := map[bool]string{true: "usage", false: "nousage"}[includeUsage]
			t.Run(tt.file+"/"+mode, func(t *testing.T) {
				srv, _ := upstream(t, replaySSE(t, tt.file))
				c := newTestClient(t, "openai", srv.URL)
				s, err := c.Stream(context.Background(), chatCall(`{"model":"a","stream":true}`, includeUsage))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				chunks, end := drain(t, s)
				if end != tt.wantEnd {
					t.Errorf("stream ended with %q, want %q", end, tt.wantEnd)
				}
				if u, ok := s.Usage(); u != tt.wantUsage || ok != tt.hasUsage {
					t.Errorf("usage = %+v %v, want %+v %v", u, ok, tt.wantUsage, tt.hasUsage)
				}
				if includeUsage {
					assertVerbatim(t, readTestdata(t, tt.file), chunks)
				} else {
					assertNoUsageLeft(t, chunks)
				}
				golden(t, strings.TrimSuffix(tt.file, ".sse")+"."+mode+".golden",
					strings.Join(chunks, "\n")+"\n-- end: "+end+"\n")
			})
		}
	}
}

// drain reads a stream to its end and describes how it ended.
func drain(t *testing.T, s schema.Stream) ([]string, string) {
	t.Helper()
	var chunks []string
	for {
		b, err := s.Next()
		if errors.Is(err, io.EOF) {
			if _, again := s.Next(); !errors.Is(again, io.EOF) {
				t.Errorf("Next after EOF = %v, want io.EOF", again)
			}
			return chunks, "EOF"
		}
		if err != nil {
			e := asAPIErr(t, err)
			if e.Kind != apierr.KindProvider {
				t.Errorf("error kind %v, want provider", e.Kind)
			}
			return chunks, fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
		}
		if !gjson.ValidBytes(b) {
			t.Errorf("chunk is not JSON: %s", b)
		}
		chunks = append(chunks, string(b))
	}
}

// assertVerbatim checks that with include_usage every data payload the upstream sent
// before [DONE] or the error came back byte for byte.
func assertVerbatim(t *testing.T, sse []byte, chunks []string) {
	t.Helper()
	var sent []string
	for _, line := range strings.Split(string(sse), "\n") {
		line = strings.TrimSuffix(line, "\r")
		p, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		p = strings.TrimPrefix(p, " ")
		if p == "[DONE]" || strings.Contains(p, `"error"`) || !gjson.Valid(p) {
			break
		}
		sent = append(sent, p)
	}
	if strings.Join(sent, "\n") != strings.Join(chunks, "\n") {
		t.Errorf("chunks differ from what the upstream sent:\n got %q\nsent %q", chunks, sent)
	}
}

// assertNoUsageLeft checks that a client that did not ask for usage sees neither the
// usage chunk nor "usage":null.
func assertNoUsageLeft(t *testing.T, chunks []string) {
	t.Helper()
	for _, c := range chunks {
		u := gjson.Get(c, "usage")
		if u.Type == gjson.Null && u.Exists() {
			t.Errorf(`chunk still has "usage":null: %s`, c)
		}
		if ch := gjson.Get(c, "choices"); u.IsObject() && len(ch.Array()) == 0 {
			t.Errorf("usage-only chunk passed through: %s", c)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestStreamChunksArriveAsSent checks that Next hands over a chunk as soon as it
// arrives: the upstream sends its second chunk only after the test has read the first.
func TestStreamChunksArriveAsSent(t *testing.T) {
	firstRead := make(chan struct{})
	srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"n\":1,\"choices\":[]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-firstRead:
		case <-time.After(5 * time.Second):
			return
		}
		time.Sleep(200 * time.Millisecond)
		fmt.Fprint(w, "data: {\"n\":2,\"choices\":[]}\n\ndata: [DONE]\n\n")
	})
	c := newTestClient(t, "openai", srv.URL)
	s, err := c.Stream(context.Background(), chatCall(`{"model":"a","stream":true}`, false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan string, 1)
	go func() {
		b, err := s.Next()
		got <- fmt.Sprint(string(b), err)
	}()
	select {
	case first := <-got:
		if first != `{"n":1,"choices":[]}<nil>` {
			t.Fatalf("first chunk = %s", first)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("first chunk was held back until the second was sent")
	}
	close(firstRead)
	if b, err := s.Next(); err != nil || string(b) != `{"n":2,"choices":[]}` {
		t.Fatalf("second chunk = %s, %v", b, err)
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after [DONE]: %v", err)
	}
}

// TestStreamCancelClosesUpstream checks that cancelling the context mid-stream aborts
// the upstream request and unblocks Next.
func TestStreamCancelClosesUpstream(t *testing.T) {
	upstreamDone := make(chan struct{})
	srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(upstreamDone)
		case <-time.After(5 * time.Second):
		}
	})
	c := newTestClient(t, "openai", srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := c.Stream(ctx, chatCall(`{"model":"a","stream":true}`, true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = s.Next()
	e := asAPIErr(t, err)
	if e.Status != StatusClientClosed || !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel = %+v", *e)
	}
	select {
	case <-upstreamDone:
	case <-time.After(3 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
}

func TestStreamLines(t *testing.T) {
	big := `{"choices":[{"delta":{"content":"` + strings.Repeat("x", 200<<10) + `"}}]}`
	huge := `{"choices":[{"delta":{"content":"` + strings.Repeat("y", maxLineBytes) + `"}}]}`
	tests := []struct {
		name, body string
		want       []string
		wantEnd    string
	}{
		{"line longer than the read buffer", "data: " + big + "\n\ndata: [DONE]\n\n", []string{big}, "EOF"},
		{"line over 16 MiB", "data: " + huge + "\n\ndata: [DONE]\n\n", nil, "502 upstream_error: upstream sent an event larger than 16 MiB"},
		{"fields other than data are ignored", "event: message\nid: 7\nretry: 1000\ndata: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`}, "EOF"},
		{"unterminated [DONE] at EOF", "data: {\"a\":1}\n\ndata: [DONE]", []string{`{"a":1}`}, "EOF"},
		{"EOF without [DONE]", "data: {\"a\":1}\n\n", []string{`{"a":1}`}, "502 upstream_error: upstream closed the stream early"},
		{"usage null first member", "data: {\"usage\":null, \"choices\":[]}\n\ndata: [DONE]\n", []string{`{"choices":[]}`}, "EOF"},
		{"nested usage null kept", "data: {\"choices\":[{\"usage\":null}]}\n\ndata: [DONE]\n", []string{`{"choices":[{"usage":null}]}`}, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStream(context.Background(), io.NopCloser(strings.NewReader(tt.body)), chatCall(`{}`, false))
			chunks, end := drain(t, s)
			if end != tt.wantEnd || strings.Join(chunks, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %d chunks ending %q, want %d ending %q", len(chunks), end, len(tt.want), tt.wantEnd)
			}
		})
	}
}

func TestStreamCloseIdempotent(t *testing.T) {
	rc := &countingCloser{Reader: bytes.NewReader(nil)}
	s := newStream(context.Background(), rc, chatCall(`{}`, false))
	for range 3 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if rc.n != 1 {
		t.Errorf("body closed %d times, want 1", rc.n)
	}
}

type countingCloser struct {
	io.Reader
	n int
}

func (c *countingCloser) Close() error { c.n++; return nil }
