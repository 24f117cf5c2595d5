package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tollgate-llm/tollgate/fakellm"
)

// recorder is an upstream that keeps the bytes of every answer it sends: a fakellm
// behind a tee. The byte check compares what a client got through a gateway with what
// the upstream sent for that very request, which is what a client talking to the
// upstream directly gets.
type recorder struct {
	h    http.Handler
	mu   sync.Mutex
	sent [][]byte
}

// teeWriter copies the body written to a ResponseWriter.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer to flush it.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &teeWriter{ResponseWriter: w}
	rec.h.ServeHTTP(tw, r)
	rec.mu.Lock()
	rec.sent = append(rec.sent, tw.buf.Bytes())
	rec.mu.Unlock()
}

// take returns and forgets the answers sent so far.
func (rec *recorder) take() [][]byte {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s := rec.sent
	rec.sent = nil
	return s
}

// startRecorder serves a recording fakellm on a loopback port until ctx ends.
func startRecorder(ctx context.Context, upstreamKey string) (*recorder, string, error) {
	rec := &recorder{h: fakellm.New(fakellm.Options{Keys: []string{upstreamKey}, Models: []string{"*"}, Seed: 1})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	return rec, "http://" + ln.Addr().String(), nil
}

// byteCheck is the result of streaming one answer through a target.
type byteCheck struct {
	// Identical is true when the client got exactly the data payloads the upstream
	// sent, in order; RawIdentical when the whole bodies are equal byte for byte.
	Identical    bool   `json:"identical"`
	RawIdentical bool   `json:"raw_identical"`
	Events       int    `json:"events"`
	Content      int    `json:"content_chunks"`
	Detail       string `json:"detail,omitempty"`
}

// checkStream streams a chunks-chunk answer with usage through t to the recording
// upstream and compares what the client got with what the upstream sent.
func checkStream(ctx context.Context, t *target, rec *recorder, chunks int) byteCheck {
	rec.take()
	body := fmt.Appendf(nil, streamBodyFmt, checkModel, chunks)
	r := doStream(ctx, t, t.checkBase, body, streamOpts{keep: true})
	sent := rec.take()
	if r.err != nil {
		return byteCheck{Detail: r.err.Error()}
	}
	if len(sent) != 1 {
		return byteCheck{Detail: fmt.Sprintf("the upstream answered %d requests, want 1", len(sent))}
	}
	c := compareStreams(sent[0], r.body)
	if c.Identical && c.Content != chunks {
		c.Identical, c.Detail = false, fmt.Sprintf("%d content chunks, want %d", c.Content, chunks)
	}
	return c
}

// compareStreams compares the data payloads of two SSE bodies exactly.
func compareStreams(upstream, client []byte) byteCheck {
	want, got := ssePayloads(upstream), ssePayloads(client)
	c := byteCheck{Events: len(got), RawIdentical: bytes.Equal(upstream, client)}
	for _, p := range got {
		if bytes.Contains(p, []byte(`"delta":{"content":`)) {
			c.Content++
		}
	}
	switch {
	case len(want) == 0:
		c.Detail = "the upstream sent no events"
	case len(got) != len(want):
		c.Detail = fmt.Sprintf("%d events, the upstream sent %d", len(got), len(want))
	default:
		for i := range want {
			if !bytes.Equal(want[i], got[i]) {
				c.Detail = fmt.Sprintf("event %d differs:\n  upstream %s\n  client   %s", i, want[i], got[i])
				return c
			}
		}
		c.Identical = true
	}
	return c
}

// ssePayloads returns the data of every event of an SSE body, in order. Multi-line data
// is joined with newlines, as the SSE specification says.
func ssePayloads(body []byte) [][]byte {
	var out [][]byte
	for block := range bytes.SplitSeq(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		var data [][]byte
		for line := range bytes.SplitSeq(block, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				data = append(data, bytes.TrimPrefix(v, []byte(" ")))
			}
		}
		if data != nil {
			out = append(out, bytes.Join(data, []byte("\n")))
		}
	}
	return out
}
