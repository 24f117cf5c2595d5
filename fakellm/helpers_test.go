package fakellm

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testKey = "sk-test-123456"

// fixture is a fake served by httptest, with a client for it.
type fixture struct {
	t    *testing.T
	fake *Server
	url  string
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	fake := New(opts)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return &fixture{t: t, fake: fake, url: ts.URL}
}

// req is one request to the fake.
type req struct {
	method, path, body string
	headers            map[string]string
	noAuth             bool
	ctx                context.Context
}

func (f *fixture) do(r req) *http.Response {
	f.t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.ctx == nil {
		r.ctx = context.Background()
	}
	hr, err := http.NewRequestWithContext(r.ctx, r.method, f.url+r.path, strings.NewReader(r.body))
	if err != nil {
		f.t.Fatal(err)
	}
	if !r.noAuth {
		hr.Header.Set("Authorization", "Bearer "+testKey)
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		f.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	return resp
}

// call sends r and returns the status, headers and whole body.
func (f *fixture) call(r req) (int, http.Header, []byte) {
	f.t.Helper()
	resp := f.do(r)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("reading body: %v", err)
	}
	return resp.StatusCode, resp.Header, b
}

// decode unmarshals b into v or fails the test.
func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

// sseData checks OpenAI's framing exactly, "data: <payload>\n\n" and nothing else, and
// returns the payloads.
func sseData(t *testing.T, body []byte) []string {
	t.Helper()
	s := string(body)
	if !strings.HasSuffix(s, "\n\n") {
		t.Fatalf("stream does not end with a blank line: %q", s)
	}
	var out []string
	for _, ev := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		payload, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(payload, "\n") {
			t.Fatalf("event is not one data line: %q", ev)
		}
		out = append(out, payload)
	}
	return out
}

// timedEvent is a stream event and when the client read it.
type timedEvent struct {
	data string
	at   time.Time
}

// readEvents reads data events as they arrive, until the stream ends or n are read
// (n < 0: all).
func readEvents(t *testing.T, body io.Reader, n int) []timedEvent {
	t.Helper()
	var out []timedEvent
	sc := bufio.NewScanner(body)
	for sc.Scan() && (n < 0 || len(out) < n) {
		if payload, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, timedEvent{payload, time.Now()})
		}
	}
	return out
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// chatBody is a minimal chat request with extra top-level fields appended.
func chatBody(extra string) string {
	b := `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"hello there friend"}]`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

// errorBody is OpenAI's error shape with every key kept, to check nulls.
type errorBody struct {
	Error map[string]any `json:"error"`
}

func checkError(t *testing.T, b []byte, typ, code string) map[string]any {
	t.Helper()
	var e errorBody
	decode(t, b, &e)
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := e.Error[k]; !ok {
			t.Errorf("error body lacks %q: %s", k, b)
		}
	}
	if e.Error["type"] != typ {
		t.Errorf("type = %v, want %s", e.Error["type"], typ)
	}
	if code == "" && e.Error["code"] != nil || code != "" && e.Error["code"] != code {
		t.Errorf("code = %v, want %q", e.Error["code"], code)
	}
	return e.Error
}
