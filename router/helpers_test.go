package router_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/schema"
)

// upstreamKey is the one credential the fake upstreams accept unless a test says
// otherwise.
const upstreamKey = "sk-test-router-upstream-0123456789"

// siblingKey is a second credential the switchable upstream accepts.
const siblingKey = "sk-test-router-sibling-9876543210"

// fake starts a fakellm upstream serving any model; knobs become request headers on
// every request, the way a provider's configured headers reach the upstream.
func fake(t testing.TB, opts fakellm.Options) (*fakellm.Server, string) {
	t.Helper()
	if opts.Models == nil {
		opts.Models = []string{"*"}
	}
	if opts.Keys == nil {
		opts.Keys = []string{upstreamKey}
	}
	f := fakellm.New(opts)
	base, err := f.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, base
}

// switchable serves a fakellm upstream through a handler that injects faults by adding
// fakellm's X-Fake-* headers to the requests it passes on, as chosen by fault.
type switchable struct {
	*fakellm.Server
	mu    sync.Mutex
	fault func(key string, n int) map[string]string
	n     int
}

func newSwitchable(t testing.TB) (*switchable, string) {
	t.Helper()
	s := &switchable{Server: fakellm.New(fakellm.Options{Models: []string{"*"}, Keys: []string{upstreamKey, siblingKey}})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.n++
		var h map[string]string
		if s.fault != nil {
			h = s.fault(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), s.n)
		}
		s.mu.Unlock()
		for k, v := range h {
			r.Header.Set(k, v)
		}
		s.Server.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL + "/v1"
}

// set replaces the fault function; nil heals the upstream. n counts requests from 1.
func (s *switchable) set(fault func(key string, n int) map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault, s.n = fault, 0
}

// always injects h into every request.
func always(h map[string]string) func(string, int) map[string]string {
	return func(string, int) map[string]string { return h }
}

// keyRequests counts the requests the upstream received with key.
func keyRequests(f *fakellm.Server, key string) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Key == key {
			n++
		}
	}
	return n
}

// deployment builds an OpenAI-dialect deployment at base with the given keys.
func deployment(t testing.TB, name, base string, headers map[string]string, keys ...string) *router.Deployment {
	t.Helper()
	p, err := openai.New(providers.Config{Name: name, Type: "openai", BaseURL: base, Headers: headers,
		Client: httpclient.Default()})
	if err != nil {
		t.Fatal(err)
	}
	d := &router.Deployment{Name: name, Type: "openai", Provider: p}
	for i, k := range keys {
		d.Keys = append(d.Keys, router.Credential{ID: fmt.Sprintf("%s#%d", name, i), Secret: schema.NewSecret(k), Weight: 1})
	}
	return d
}

// route is a model with one target per deployment.
func route(name string, retries int, deps ...*router.Deployment) *router.Route {
	rt := &router.Route{Name: name, Retries: retries}
	for _, d := range deps {
		rt.Targets = append(rt.Targets, &router.Target{Deployment: d, Model: "gpt-4o-mini", Weight: 1})
	}
	return rt
}

func chat(model string, stream bool) *schema.Request {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Hello there"}],"stream":%v}`, model, stream)
	return &schema.Request{ID: "req_test", Endpoint: schema.EndpointChat, Model: model, Stream: stream, Body: []byte(body)}
}

// fastBreakers open after three failures in a row and probe after 150ms.
var fastBreakers = router.BreakerSettings{ConsecutiveFailures: 3, OpenTimeout: 150 * time.Millisecond}

// complete sends one chat request and fails the test if it does not return within
// a minute (a hang).
func complete(t testing.TB, r *router.Router, model string) (*schema.Response, router.Meta, error) {
	t.Helper()
	type out struct {
		resp *schema.Response
		meta router.Meta
		err  error
	}
	done := make(chan out, 1)
	go func() {
		resp, meta, err := r.Complete(context.Background(), chat(model, false))
		done <- out{resp, meta, err}
	}()
	select {
	case o := <-done:
		return o.resp, o.meta, o.err
	case <-time.After(time.Minute):
		t.Fatal("the request hung")
		return nil, router.Meta{}, nil
	}
}

// drain reads a stream to its end and returns the chunks' text and the final error
// (nil after a clean end).
func drain(s schema.Stream) (string, error) {
	defer s.Close()
	var b strings.Builder
	for {
		chunk, err := s.Next()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		b.Write(chunk)
	}
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return apierr.From(err).Code
}

func status(err error) int {
	if err == nil {
		return 200
	}
	return apierr.From(err).Status
}
