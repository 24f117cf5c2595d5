package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// cannedChat answers every chat with the same bytes; the behaviour under test is the
// server's, not the router's.
type cannedChat struct{ body string }

func (d cannedChat) Complete(context.Context, *schema.Request) (*schema.Response, router.Meta, error) {
	return &schema.Response{Body: []byte(d.body), HasUsage: true,
			Usage: schema.Usage{PromptTokens: 9, CompletionTokens: 2, TotalTokens: 11}},
		router.Meta{Provider: "fake", UpstreamModel: "gpt-4o-mini", Attempts: 1}, nil
}

func (cannedChat) Stream(context.Context, *schema.Request) (schema.Stream, router.Meta, error) {
	return nil, router.Meta{}, errors.New("not streamed")
}

func (cannedChat) Lookup(name string) (*router.Route, bool) { return &router.Route{Name: name}, true }
func (cannedChat) Routes() []*router.Route                  { return nil }

// heldLog holds the access log line until released, as a slow log sink would.
type heldLog struct {
	slog.Handler
	release  chan struct{}
	timedOut atomic.Bool
}

func (h *heldLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *heldLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "request" {
		select {
		case <-h.release:
		case <-time.After(10 * time.Second):
			h.timedOut.Store(true)
		}
	}
	return h.Handler.Handle(ctx, r)
}

// TestAnswerDoesNotWaitForTheAccessLog checks that a client has its whole answer while
// the access log line is still being written.
func TestAnswerDoesNotWaitForTheAccessLog(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	auth := keys.NewAuthenticator(db, keys.NewHasher([]byte("0123456789abcdef0123456789abcdef")), nil)
	key, err := keys.NewManager(db, auth).Create(ctx, keys.CreateRequest{Name: "app"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	logs := &heldLog{Handler: slog.DiscardHandler, release: make(chan struct{})}
	const answer = `{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`
	s, err := New(Deps{Log: slog.New(logs), Auth: auth, Router: cannedChat{body: answer}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	close(logs.release)
	if err != nil || resp.StatusCode != 200 || string(body) != answer {
		t.Fatalf("answer: %d %q %v", resp.StatusCode, body, err)
	}
	if logs.timedOut.Load() {
		t.Fatal("the answer reached the client only after the access log line was written")
	}
	if resp.ContentLength != int64(len(answer)) {
		t.Fatalf("Content-Length %d, want %d", resp.ContentLength, len(answer))
	}
}
