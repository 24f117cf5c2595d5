package fakellm

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRecording(t *testing.T) {
	f := newFixture(t, Options{})
	if _, ok := f.fake.LastRequest(); ok {
		t.Fatal("LastRequest before any request")
	}
	body := chatBody(`"user":"u1"`)
	f.call(req{path: "/v1/chat/completions?x=1", body: body, headers: map[string]string{"X-Custom": "v"}})
	f.call(req{method: http.MethodGet, path: "/v1/models", noAuth: true})
	if f.fake.Count() != 2 {
		t.Errorf("Count = %d", f.fake.Count())
	}
	reqs := f.fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("Requests = %d", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" || r.RawQuery != "x=1" || string(r.Body) != body ||
		r.Header.Get("X-Custom") != "v" || r.Key != testKey || r.Time.IsZero() {
		t.Errorf("recorded = %+v", r)
	}
	last, ok := f.fake.LastRequest()
	if !ok || last.Path != "/v1/models" || last.Key != "" {
		t.Errorf("LastRequest = %+v", last)
	}
	f.fake.Reset()
	if f.fake.Count() != 0 || len(f.fake.Requests()) != 0 || f.fake.MaxInFlight(testKey) != 0 {
		t.Error("Reset left state behind")
	}
}

func TestRecordingRing(t *testing.T) {
	f := newFixture(t, Options{MaxRecorded: 3})
	for _, p := range []string{"/v1/models/a", "/v1/models/b", "/v1/models/c", "/v1/models/d", "/v1/models/e"} {
		f.call(req{method: http.MethodGet, path: p})
	}
	var paths []string
	for _, r := range f.fake.Requests() {
		paths = append(paths, r.Path)
	}
	if got := strings.Join(paths, " "); got != "/v1/models/c /v1/models/d /v1/models/e" {
		t.Errorf("ring = %s", got)
	}
	if last, _ := f.fake.LastRequest(); last.Path != "/v1/models/e" {
		t.Errorf("last = %s", last.Path)
	}
	none := newFixture(t, Options{MaxRecorded: -1})
	none.call(req{method: http.MethodGet, path: "/v1/models"})
	if len(none.fake.Requests()) != 0 || none.fake.Count() != 1 {
		t.Error("MaxRecorded -1 still records")
	}
}

func TestInFlight(t *testing.T) {
	// The requests wait far longer than the test, which ends them by leaving.
	f := newFixture(t, Options{Latency: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range 5 {
		key := "key-a"
		if i >= 3 {
			key = "key-b"
		}
		wg.Go(func() {
			hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"/v1/models", nil)
			hr.Header.Set("Authorization", "Bearer "+key)
			if resp, err := http.DefaultClient.Do(hr); err == nil {
				resp.Body.Close()
			}
		})
	}
	waitFor(t, "five requests in flight", func() bool { return f.fake.InFlight() == 5 })
	cancel()
	wg.Wait()
	waitFor(t, "no request in flight", func() bool { return f.fake.InFlight() == 0 })
	if f.fake.PeakInFlight() != 5 || f.fake.Cancelled() != 5 {
		t.Errorf("peak %d, cancelled %d", f.fake.PeakInFlight(), f.fake.Cancelled())
	}
	if a, b := f.fake.MaxInFlight("key-a"), f.fake.MaxInFlight("key-b"); a != 3 || b != 2 {
		t.Errorf("per key max = %d, %d", a, b)
	}
	if f.fake.MaxInFlight("unknown") != 0 {
		t.Error("unknown key has a max")
	}
}

func TestStartClose(t *testing.T) {
	s := New(Options{})
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/v1") {
		t.Errorf("base URL = %s", url)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	hr, _ := http.NewRequest(http.MethodGet, url+"/models", nil)
	hr.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "gpt-4o-mini") {
		t.Errorf("models: %d %s", resp.StatusCode, b)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if _, err := http.DefaultClient.Do(hr); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestShutdownCutsOffHangs(t *testing.T) {
	s := New(Options{})
	url, err := s.Start("")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		hr, _ := http.NewRequest(http.MethodGet, url+"/models", nil)
		hr.Header.Set("Authorization", "Bearer k")
		hr.Header.Set("X-Fake-Mode", ModeHang)
		resp, err := http.DefaultClient.Do(hr)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	waitFor(t, "the hang to start", func() bool { return s.InFlight() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); err == nil {
		t.Error("Shutdown waited out a hang")
	}
	if err := <-done; err == nil {
		t.Error("hanging client got an answer")
	}
	waitFor(t, "the hang to end", func() bool { return s.InFlight() == 0 && s.Cancelled() == 1 })
}
