package openai

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/schema"
)

func hooked(t *testing.T, base string, h Hooks) providers.Provider {
	t.Helper()
	hc := httpclient.New(httpclient.Options{})
	t.Cleanup(hc.CloseIdleConnections)
	p, err := NewWithHooks(providers.Config{Name: "hooked", Type: "custom", BaseURL: base, Client: hc}, h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHooksRouteAndAuthenticate checks the URL and Auth hooks replace OpenAI's path and
// bearer header, and see the endpoint and upstream model.
func TestHooksRouteAndAuthenticate(t *testing.T) {
	srv, rec := upstream(t, replyJSON(200, `{"id":"x","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, nil))
	p := hooked(t, srv.URL+"/", Hooks{
		URL: func(base string, ep schema.Endpoint, model string) string {
			return base + "/deployments/" + model + ep.Path() + "?v=1"
		},
		Auth: func(h http.Header, key schema.Secret) { h.Set("api-key", key.Reveal()) },
	})
	if _, err := p.Complete(context.Background(), chatCall(`{"model":"a"}`, false)); err != nil {
		t.Fatal(err)
	}
	_, path, h, _ := rec.last()
	if path != "/deployments/gpt-4o/chat/completions" || h.Get("api-key") != testKey || h.Get("Authorization") != "" {
		t.Errorf("path %s api-key %q Authorization %q", path, h.Get("api-key"), h.Get("Authorization"))
	}
}

// TestHooksDropChunks checks Drop withholds chunks from the client while the usage chunk
// still reaches Usage.
func TestHooksDropChunks(t *testing.T) {
	srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: {\"annotation\":1,\"choices\":[]}\n\n" +
			"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n" +
			"data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1,\"total_tokens\":5}}\n\n" +
			"data: [DONE]\n\n"))
	})
	p := hooked(t, srv.URL, Hooks{Drop: func(chunk []byte) bool { return bytes.Contains(chunk, []byte(`"annotation"`)) }})
	s, err := p.Stream(context.Background(), chatCall(`{"model":"a","stream":true}`, false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, end := drain(t, s)
	if len(chunks) != 1 || end != "EOF" {
		t.Errorf("chunks %q end %s", chunks, end)
	}
	if u, ok := s.Usage(); !ok || u.TotalTokens != 5 {
		t.Errorf("usage %+v %v", u, ok)
	}
}

// TestHooksAmendErrors checks the Error hook sees the status, headers and body of a
// failed answer and can change the error, streamed or not.
func TestHooksAmendErrors(t *testing.T) {
	srv, _ := upstream(t, replyJSON(400, `{"error":{"message":"no","code":"special"}}`, map[string]string{"x-extra": "1"}))
	p := hooked(t, srv.URL, Hooks{Error: func(e *apierr.Error, h http.Header, body []byte) {
		if h.Get("x-extra") == "1" && bytes.Contains(body, []byte("special")) {
			e.Code = "amended"
		}
	}})
	_, err := p.Complete(context.Background(), chatCall(`{"model":"a"}`, false))
	if e := asAPIErr(t, err); e.Code != "amended" || e.Status != 400 {
		t.Errorf("error %+v", e)
	}
	_, err = p.Stream(context.Background(), chatCall(`{"model":"a"}`, false))
	if e := asAPIErr(t, err); e.Code != "amended" {
		t.Errorf("stream error %+v", e)
	}
}
