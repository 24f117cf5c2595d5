package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/fakellm"
)

// startFloorFor runs the floor in process in front of a fresh fakellm accepting upKey.
func startFloorFor(t *testing.T, keys map[string]string, upKey string) (floorURL string, fake *fakellm.Server) {
	t.Helper()
	fake = fakellm.New(fakellm.Options{Keys: []string{upKey}, Models: []string{"*"}})
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	fl := httptest.NewServer(newFloor(u, keys))
	t.Cleanup(fl.Close)
	return fl.URL, fake
}

func TestFloorSwapsTheKeyAndRefusesUnknownOnes(t *testing.T) {
	floorURL, _ := startFloorFor(t, map[string]string{"client-1": "sk-up"}, "sk-up")
	tests := []struct {
		name, auth string
		want       int
	}{
		{"known key", "Bearer client-1", 200},
		{"unknown key", "Bearer client-2", 401},
		{"upstream key itself", "Bearer sk-up", 401},
		{"no key", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", floorURL+"/v1/chat/completions",
				strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 200 && !strings.Contains(string(body), `"chat.completion"`) {
				t.Fatalf("not a chat completion: %s", body)
			}
		})
	}
}

// TestFloorRelaysConcurrentStreamsWhole checks the floor is a fair baseline: many
// concurrent streams all arrive whole.
func TestFloorRelaysConcurrentStreamsWhole(t *testing.T) {
	floorURL, _ := startFloorFor(t, map[string]string{"client-1": "sk-up"}, "sk-up")
	tg := &target{name: "floor", base: floorURL, key: "client-1", client: newClient()}
	body := newBodies("m", settings{Chunks: 24}).stream
	var wg sync.WaitGroup
	var mu sync.Mutex
	var s samples
	for range 16 {
		wg.Go(func() {
			for range 50 {
				r := doStream(context.Background(), tg, tg.base, body.next(), streamOpts{})
				mu.Lock()
				s.addStream(r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if s.bad != 0 || s.ok != 800 {
		t.Fatalf("%d streams whole, %d failed (first: %s)", s.ok, s.bad, s.firstErr)
	}
	if got := tg.answered.Load(); got != 800 {
		t.Fatalf("answered = %d, want 800", got)
	}
}

// TestHoldStreamsHoldsThemAllThenCuts opens slow streams through the floor, which
// would last minutes, and checks that all were open at once, that the bench's own
// cut is not counted as a failure, and that every stream was answered.
func TestHoldStreamsHoldsThemAllThenCuts(t *testing.T) {
	floorURL, fake := startFloorFor(t, map[string]string{"client-1": "sk-up"}, "sk-up")
	tg := &target{name: "floor", base: floorURL, key: "client-1", client: newClient()}
	b := newBodies("m", settings{Chunks: 24, OpenDelay: duration(200 * time.Millisecond)})
	peaked := false
	res := holdStreams(context.Background(), tg, 50, 500, b.slow, 100*time.Millisecond, 0, func() { peaked = true })
	if res.Held != 50 || res.Errors != 0 || !peaked {
		t.Fatalf("held %d of 50, %d errors (%s), atPeak run: %v", res.Held, res.Errors, res.FirstErr, peaked)
	}
	if got := tg.answered.Load(); got != 50 {
		t.Fatalf("answered %d, want 50", got)
	}
	for range 100 {
		if fake.InFlight() == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d streams still open upstream after the cut", fake.InFlight())
}
