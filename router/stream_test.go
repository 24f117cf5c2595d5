package router_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/router"
)

// brokenStream is an OpenAI-dialect upstream that answers 200 with an event stream and
// then fails before its first chunk, as write does.
func brokenStream(t *testing.T, write func(w http.ResponseWriter)) (*int, string) {
	t.Helper()
	n := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		*n++
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		write(w)
	}))
	t.Cleanup(srv.Close)
	return n, srv.URL + "/v1"
}

// TestStreamFailsOverBeforeFirstChunk checks that a stream that fails before its first
// chunk reached the client is a failed attempt, and the next target serves it.
func TestStreamFailsOverBeforeFirstChunk(t *testing.T) {
	drop := func(w http.ResponseWriter) { panic(http.ErrAbortHandler) }
	errorEvent := func(w http.ResponseWriter) {
		io.WriteString(w, `data: {"error":{"message":"Provider returned error","code":503}}`+"\n\n")
	}
	cases := []struct {
		name   string
		first  func(t *testing.T) (func() int, string, map[string]string)
		ttfb   time.Duration
		status int // the failed attempt's status as the router saw it
	}{
		{"dropped after the status line", func(t *testing.T) (func() int, string, map[string]string) {
			n, base := brokenStream(t, drop)
			return func() int { return *n }, base, nil
		}, 0, 502},
		{"error event as the first chunk", func(t *testing.T) (func() int, string, map[string]string) {
			n, base := brokenStream(t, errorEvent)
			return func() int { return *n }, base, nil
		}, 0, 503},
		{"500 before the stream", func(t *testing.T) (func() int, string, map[string]string) {
			f, base := fake(t, fakellm.Options{})
			return func() int { return int(f.Count()) }, base, map[string]string{"X-Fake-Error-Status": "500"}
		}, 0, 500},
		{"first chunk later than the attempt timeout", func(t *testing.T) (func() int, string, map[string]string) {
			f, base := fake(t, fakellm.Options{})
			return func() int { return int(f.Count()) }, base, map[string]string{"X-Fake-TTFT": "5s"}
		}, 200 * time.Millisecond, 504},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			count, base, headers := tc.first(t)
			backup, backupURL := fake(t, fakellm.Options{})
			first := deployment(t, "first", base, headers, upstreamKey)
			first.Timeout = tc.ttfb
			rt := route("m", 1, first, deployment(t, "backup", backupURL, nil, upstreamKey))
			rt.Strategy = "priority"
			rt.Targets[1].Priority = 1
			r := router.New([]*router.Route{rt}, router.Options{})
			s, meta, err := r.Stream(context.Background(), chat("m", true))
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			text, err := drain(s)
			if err != nil || !strings.Contains(text, "chat.completion.chunk") {
				t.Fatalf("stream: %v, text %q", err, text)
			}
			if meta.Provider != "backup" || meta.Attempts != 2 || count() != 1 || backup.Count() != 1 {
				t.Fatalf("served by %s after %d attempts; first saw %d, backup %d", meta.Provider, meta.Attempts, count(), backup.Count())
			}
			if h := rt.Targets[0].Health(); h.Failures != 1 || h.InFlight != 0 {
				t.Fatalf("first target health: %+v", h)
			}
			if h := rt.Targets[1].Health(); h.Requests != 1 || h.InFlight != 0 || h.LatencyMS <= 0 {
				t.Fatalf("backup target health: %+v", h)
			}
		})
	}
}

// TestStreamFailsAfterFirstChunk checks that nothing is retried once a chunk was
// delivered: the stream ends with a typed error, which the server sends as an SSE error
// event.
func TestStreamFailsAfterFirstChunk(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		idle    time.Duration
		code    string
	}{
		{"error event midstream", map[string]string{"X-Fake-Mode": "error_midstream", "X-Fake-Chunks": "6"}, 0, ""},
		{"connection dropped midstream", map[string]string{"X-Fake-Mode": "drop_midstream", "X-Fake-Chunks": "6"}, 0, "upstream_error"},
		{"upstream goes idle", map[string]string{"X-Fake-Chunk-Delay": "10s", "X-Fake-Chunks": "3"}, 200 * time.Millisecond, "upstream_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad, badURL := fake(t, fakellm.Options{})
			backup, backupURL := fake(t, fakellm.Options{})
			rt := route("m", 2, deployment(t, "bad", badURL, tc.headers, upstreamKey), deployment(t, "backup", backupURL, nil, upstreamKey))
			rt.Strategy = "priority"
			rt.Targets[1].Priority = 1
			r := router.New([]*router.Route{rt}, router.Options{StreamIdle: tc.idle})
			s, meta, err := r.Stream(context.Background(), chat("m", true))
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			text, err := drain(s)
			var e *apierr.Error
			if !errors.As(err, &e) || text == "" {
				t.Fatalf("want a typed error after some chunks; got %v after %q", err, text)
			}
			if tc.code != "" && e.Code != tc.code {
				t.Fatalf("error code %q, want %q", e.Code, tc.code)
			}
			if meta.Attempts != 1 || bad.Count() != 1 || backup.Count() != 0 {
				t.Fatalf("retried after the first chunk: %d attempts, backup saw %d", meta.Attempts, backup.Count())
			}
			if h := rt.Targets[0].Health(); h.Failures != 1 || h.InFlight != 0 {
				t.Fatalf("health after the failed stream: %+v", h)
			}
		})
	}
}

// TestTimeouts checks that a hanging upstream ends in 504 upstream_timeout once the
// model's deadline passes, and that a per-attempt timeout fails over instead.
func TestTimeouts(t *testing.T) {
	hang := map[string]string{"X-Fake-Mode": "hang"}
	cases := []struct {
		name     string
		stream   bool
		ttfb     time.Duration
		backup   bool
		wantCode string
	}{
		{"json past the deadline", false, 0, false, "upstream_timeout"},
		{"stream past the deadline", true, 0, false, "upstream_timeout"},
		{"json attempt timeout fails over", false, 100 * time.Millisecond, true, ""},
		{"stream attempt timeout fails over", true, 100 * time.Millisecond, true, ""},
		{"every attempt times out", false, 100 * time.Millisecond, false, "upstream_timeout"},
	}
	const deadline = 400 * time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hung, hungURL := fake(t, fakellm.Options{})
			d := deployment(t, "hung", hungURL, hang, upstreamKey)
			d.Timeout = tc.ttfb
			deps := []*router.Deployment{d}
			if tc.backup {
				_, backupURL := fake(t, fakellm.Options{})
				deps = append(deps, deployment(t, "backup", backupURL, nil, upstreamKey))
			}
			rt := route("m", 1, deps...)
			rt.Timeout, rt.Strategy = deadline, "priority"
			if tc.backup {
				rt.Targets[1].Priority = 1
			}
			r := router.New([]*router.Route{rt}, router.Options{})
			start := time.Now()
			err := serve(t, r, tc.stream)
			if code(err) != tc.wantCode {
				t.Fatalf("got %v, want code %q", err, tc.wantCode)
			}
			if tc.wantCode != "" && (status(err) != 504 || time.Since(start) < min(deadline, 2*tc.ttfb)) {
				t.Fatalf("answered %d after %v", status(err), time.Since(start))
			}
			waitFor(t, func() bool { return hung.InFlight() == 0 }, "the hung upstream request to be cancelled")
			if h := rt.Targets[0].Health(); h.InFlight != 0 || h.Failures == 0 {
				t.Fatalf("hung target health: %+v", h)
			}
		})
	}
}

// serve sends one request, streamed or not, and returns its error (a stream's is the
// one it ends with); it fails the test when the request hangs.
func serve(t *testing.T, r *router.Router, stream bool) error {
	t.Helper()
	if !stream {
		_, _, err := complete(t, r, "m")
		return err
	}
	done := make(chan error, 1)
	go func() {
		s, _, err := r.Stream(context.Background(), chat("m", true))
		if err == nil {
			_, err = drain(s)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the stream hung")
		return nil
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t testing.TB, cond func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
