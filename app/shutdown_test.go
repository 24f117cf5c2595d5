package app_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/configs"
)

// TestShutdownDrainsStreams starts a stream, begins a graceful shutdown in the middle of
// it, and checks that the stream still ends with [DONE] and that new connections are
// refused.
func TestShutdownDrainsStreams(t *testing.T) {
	g := startGateway(t, "sqlite", func(c *configs.Config) { c.ShutdownTimeout = configs.Duration(20 * time.Second) })
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],` +
		`"fakellm":{"chunks":10,"chunk_delay_ms":100}}`
	resp := g.post(t, "/v1/chat/completions", body, nil)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() {
		t.Fatal("no first line")
	}
	g.Stop()
	var last string
	chunks := 1
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "data: ") {
			last = l
			chunks++
		}
	}
	if last != "data: [DONE]" || chunks < 11 {
		t.Fatalf("the stream was cut by shutdown: %d chunks, last %q", chunks, last)
	}
	if err := <-g.Done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if _, err := http.Get(g.URL + "/healthz"); err == nil {
		t.Fatal("the gateway still accepts connections after shutdown")
	}
}
