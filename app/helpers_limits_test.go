package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/fakellm"
)

// gatedUpstream is a fakellm whose answers can be held: while held, every request
// reaches the fake (which counts it in flight) and then waits before its first byte,
// so a test decides when requests end instead of guessing with latencies.
type gatedUpstream struct {
	Fake *fakellm.Server
	URL  string

	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func startGatedUpstream(t testing.TB) *gatedUpstream {
	t.Helper()
	u := &gatedUpstream{Fake: fakellm.New(fakellm.Options{Keys: []string{upstreamKey}, Models: []string{"*"},
		MaxRecorded: -1})}
	srv := &http.Server{Handler: http.HandlerFunc(u.serve)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { u.release(); srv.Close() })
	u.URL = "http://" + ln.Addr().String() + "/v1"
	return u
}

// hold makes the requests that arrive from now on wait until release.
func (u *gatedUpstream) hold() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gate == nil {
		u.gate = make(chan struct{})
	}
}

// release lets every held request answer.
func (u *gatedUpstream) release() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gate != nil {
		close(u.gate)
		u.gate = nil
	}
}

func (u *gatedUpstream) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	gate := u.gate
	u.mu.Unlock()
	if gate != nil {
		w = &gatedWriter{ResponseWriter: w, gate: gate}
	}
	u.Fake.ServeHTTP(w, r)
}

// gatedWriter waits for its gate before the status line.
type gatedWriter struct {
	http.ResponseWriter
	gate chan struct{}
}

func (w *gatedWriter) WriteHeader(status int) { <-w.gate; w.ResponseWriter.WriteHeader(status) }

func (w *gatedWriter) Write(b []byte) (int, error) { <-w.gate; return w.ResponseWriter.Write(b) }

func (w *gatedWriter) Flush() { <-w.gate; http.NewResponseController(w.ResponseWriter).Flush() }

func (w *gatedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitClient sends the bursts: enough connections that every request of a burst is
// in flight at once.
var limitClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
	MaxIdleConns: 1000, MaxIdleConnsPerHost: 400}}

// outcome is one answer of a burst: status, headers and the OpenAI error fields.
type outcome struct {
	node   int // which replica answered
	status int
	header http.Header
	body   string
	err    struct{ Message, Type, Code string }
}

// send posts body to path on url with key, reading the answer to its end.
func send(url, key, path, body string) outcome {
	req, _ := http.NewRequest("POST", url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := limitClient.Do(req)
	if err != nil {
		return outcome{body: err.Error()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	o := outcome{status: resp.StatusCode, header: resp.Header, body: string(data)}
	if err != nil {
		o.status = 0
	}
	if o.status >= 400 {
		var e struct {
			Error struct{ Message, Type, Code string }
		}
		_ = json.Unmarshal(data, &e)
		o.err = e.Error
	}
	return o
}

// chatWith is a chat request for model with max_tokens and fakellm knobs (JSON object
// fields, or "").
func chatWith(model string, maxTokens int, knobs string) string {
	return fmt.Sprintf(`{"model":%q,"max_tokens":%d,"messages":[{"role":"user","content":"hi"}],"fakellm":{%s}}`,
		model, maxTokens, knobs)
}

// flight is a burst under way.
type flight struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	outs    []outcome
	limited int
}

// launch sends n requests at once, request i through send(i), and returns at once.
func launch(n int, send func(i int) outcome) *flight {
	f := &flight{outs: make([]outcome, n)}
	start := make(chan struct{})
	for i := range n {
		f.wg.Go(func() {
			<-start
			o := send(i)
			f.mu.Lock()
			f.outs[i] = o
			if o.status == http.StatusTooManyRequests {
				f.limited++
			}
			f.mu.Unlock()
		})
	}
	close(start)
	return f
}

// denied returns how many requests of the burst have been answered 429 so far.
func (f *flight) denied() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limited
}

// wait returns every outcome once all requests have been answered.
func (f *flight) wait() []outcome {
	f.wg.Wait()
	return f.outs
}

// heldBurst sends n requests at once through send while the upstream holds its
// answers, waits until each one is refused or in flight upstream, and then lets them
// answer: which requests get in does not depend on how fast anything runs.
func heldBurst(t *testing.T, up *gatedUpstream, n int, send func(i int) outcome) (ok, limited []outcome) {
	t.Helper()
	up.hold()
	f := launch(n, send)
	eventually(t, "every request of the burst admitted or refused", func() bool {
		return f.denied()+int(up.Fake.InFlight()) == n
	})
	up.release()
	return split(t, f.wait())
}

// split returns the answers with status 200 and 429, failing on any other.
func split(t testing.TB, outs []outcome) (ok, limited []outcome) {
	t.Helper()
	for _, o := range outs {
		switch o.status {
		case http.StatusOK:
			ok = append(ok, o)
		case http.StatusTooManyRequests:
			limited = append(limited, o)
		default:
			t.Fatalf("answer %d, want 200 or 429: %s", o.status, o.body)
		}
	}
	return ok, limited
}

// openAIReset is OpenAI's reset duration: Go's duration format in whole milliseconds,
// "20ms", "8.64s", "1m0s".
var openAIReset = regexp.MustCompile(`^(0s|\d+ms|(\d+m)?\d+(\.\d{1,3})?s)$`)

// checkWindow checks the x-ratelimit-* headers of kind ("requests", "tokens") report
// limit, and returns the remaining count.
func checkWindow(t testing.TB, o outcome, kind string, limit int64) int64 {
	t.Helper()
	h := o.header
	if got := h.Get("x-ratelimit-limit-" + kind); got != strconv.FormatInt(limit, 10) {
		t.Fatalf("x-ratelimit-limit-%s %q, want %d (status %d)", kind, got, limit, o.status)
	}
	rem, err := strconv.ParseInt(h.Get("x-ratelimit-remaining-"+kind), 10, 64)
	if err != nil || rem < 0 || rem > limit {
		t.Fatalf("x-ratelimit-remaining-%s %q out of [0, %d]", kind, h.Get("x-ratelimit-remaining-"+kind), limit)
	}
	reset := h.Get("x-ratelimit-reset-" + kind)
	d, err := time.ParseDuration(reset)
	if !openAIReset.MatchString(reset) || err != nil || d > 61*time.Second {
		t.Fatalf("x-ratelimit-reset-%s %q is not an OpenAI duration within the minute window", kind, reset)
	}
	return rem
}

// checkDenial checks a 429 is OpenAI's rate-limit error of type typ, with a
// retry-after, and a message containing every part of want.
func checkDenial(t testing.TB, o outcome, typ string, want ...string) {
	t.Helper()
	if o.status != http.StatusTooManyRequests || o.err.Code != "rate_limit_exceeded" || o.err.Type != typ {
		t.Fatalf("got %d %s/%s, want 429 %s/rate_limit_exceeded: %s", o.status, o.err.Type, o.err.Code, typ, o.body)
	}
	if secs, err := strconv.Atoi(o.header.Get("retry-after")); err != nil || secs < 1 {
		t.Fatalf("retry-after %q on a 429", o.header.Get("retry-after"))
	}
	for _, w := range want {
		if !strings.Contains(o.err.Message, w) {
			t.Fatalf("429 message %q does not say %q", o.err.Message, w)
		}
	}
}

// remainders returns the sorted x-ratelimit-remaining-<kind> of the answers, checking
// each one's headers against limit.
func remainders(t testing.TB, outs []outcome, kind string, limit int64) []int64 {
	t.Helper()
	var rs []int64
	for _, o := range outs {
		rs = append(rs, checkWindow(t, o, kind, limit))
	}
	slices.Sort(rs)
	return rs
}

// countdown is step*(n-1), ..., step, 0 in ascending order: what the successes of an
// exact burst report as remaining, one distinct value each.
func countdown(n int, step int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i) * step
	}
	return out
}
