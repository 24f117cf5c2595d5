package providertest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

func textFields() map[string]any { return map[string]any{"messages": []any{userMsg(userText)}} }

// errors: upstream failures become *apierr.Error values in OpenAI's shape with the
// upstream's status and the right retry advice, streamed or not, and never reveal a key.
func (s *suite) errors() {
	s.badKey()
	for _, tc := range []struct {
		status    int
		retryable bool
	}{{400, false}, {404, false}, {429, true}, {500, true}, {503, true}, {529, true}} {
		headers := map[string]string{"X-Fake-Error-Status": strconv.Itoa(tc.status)}
		p := s.provider(headers)
		_, err := p.Complete(s.ctx(), s.chatCall(body(textFields()), false, false))
		s.checkStatusError("status "+strconv.Itoa(tc.status), err, tc.status, tc.retryable)
		f := textFields()
		f["stream"] = true
		_, err = p.Stream(s.ctx(), s.chatCall(body(f), true, false))
		s.checkStatusError("streamed status "+strconv.Itoa(tc.status), err, tc.status, tc.retryable)
	}
	s.garbage()
	s.midstream()
	s.unsupported()
}

// badKey: a key the upstream rejects is a 401 that names neither key.
func (s *suite) badKey() {
	wrong := schema.NewSecret("wrong-" + s.h.Key.Reveal()[min(3, len(s.h.Key.Reveal())):] + "-x")
	call := s.chatCall(body(textFields()), false, false)
	call.Key = wrong
	_, err := s.provider(nil).Complete(s.ctx(), call)
	e := s.checkStatusError("bad key", err, http.StatusUnauthorized, false)
	if e != nil && strings.Contains(e.Error(), wrong.Reveal()) {
		s.t.Error("the 401 reveals the rejected key")
	}
}

func (s *suite) checkStatusError(what string, err error, status int, retryable bool) *apierr.Error {
	s.t.Helper()
	if err == nil {
		s.t.Errorf("%s: no error", what)
		return nil
	}
	e := s.apiError(err)
	if e.Status != status || e.Kind != apierr.KindProvider || e.Retryable != retryable {
		s.t.Errorf("%s: status %d kind %v retryable %v, want %d provider %v (%v)", what, e.Status, e.Kind, e.Retryable,
			status, retryable, e)
	}
	return e
}

// garbage: a 2xx body that is not the dialect's JSON or event stream is a 502.
func (s *suite) garbage() {
	p := s.provider(map[string]string{"X-Fake-Mode": "garbage"})
	_, err := p.Complete(s.ctx(), s.chatCall(body(textFields()), false, false))
	s.checkStatusError("garbage", err, http.StatusBadGateway, s.apiRetryable(err))
	f := textFields()
	f["stream"] = true
	st, err := p.Stream(s.ctx(), s.chatCall(body(f), true, false))
	if err == nil {
		_, err = drain(st)
	}
	if err == nil || errors.Is(err, io.EOF) {
		s.t.Errorf("garbage stream: %v, want an error", err)
		return
	}
	if e := s.apiError(err); e.Status != http.StatusBadGateway {
		s.t.Errorf("garbage stream: status %d, want 502", e.Status)
	}
}

// apiRetryable returns err's own retry advice: a 502 may or may not be retried.
func (s *suite) apiRetryable(err error) bool {
	var e *apierr.Error
	return errors.As(err, &e) && e.Retryable
}

// midstream: an error event after the stream began and a connection dropped midway both
// end the stream with an error, never a clean io.EOF that would look complete.
func (s *suite) midstream() {
	for _, mode := range []string{"error_midstream", "drop_midstream"} {
		p := s.provider(map[string]string{"X-Fake-Mode": mode, "X-Fake-Error-Status": "503", "X-Fake-Error-Rate": "0"})
		f := textFields()
		f["stream"] = true
		st, err := p.Stream(s.ctx(), s.chatCall(body(f), true, true))
		if err != nil {
			s.t.Errorf("%s: Stream: %v", mode, err)
			continue
		}
		n, err := drain(st)
		if err == nil || errors.Is(err, io.EOF) {
			s.t.Errorf("%s: the stream ended cleanly after %d chunks", mode, n)
			continue
		}
		if e := s.apiError(err); e.Kind != apierr.KindProvider || e.Status < 500 {
			s.t.Errorf("%s: %+v, want a provider error with a 5xx status", mode, e)
		}
		_, err = p.Complete(s.ctx(), s.chatCall(body(textFields()), false, false))
		if err == nil {
			s.t.Errorf("%s unstreamed: no error", mode)
		} else if e := s.apiError(err); e.Status < 500 {
			s.t.Errorf("%s unstreamed: status %d, want 5xx", mode, e.Status)
		}
	}
}

// unsupported: legacy completions, where the dialect has none, are a 400
// unsupported_endpoint that names the provider.
func (s *suite) unsupported() {
	call := s.chatCall(`{"model":"client-route","prompt":"Say hi","max_tokens":5}`, false, false)
	call.Request.Endpoint = schema.EndpointCompletions
	_, err := s.provider(nil).Complete(s.ctx(), call)
	if err == nil {
		return // the dialect serves legacy completions
	}
	if e := s.apiError(err); e.Status != http.StatusBadRequest || e.Code != "unsupported_endpoint" {
		s.t.Errorf("legacy completions: %+v, want 400 unsupported_endpoint", e)
	}
}

// drain reads a stream to its end and returns the chunks read and the final error.
func drain(st schema.Stream) (int, error) {
	defer st.Close()
	n := 0
	for {
		if _, err := st.Next(); err != nil {
			return n, err
		}
		n++
	}
}

// cancel: a caller that goes away ends the upstream request with a 499, a deadline
// with a 504, and an abandoned stream stops the upstream too.
func (s *suite) cancel() {
	hang := s.provider(map[string]string{"X-Fake-Mode": "hang"})
	ctx, stop := context.WithCancel(s.ctx())
	go func() {
		s.waitFor("the request to reach the fake", func() bool { return s.fake.InFlight() > 0 })
		stop()
	}()
	_, err := hang.Complete(ctx, s.chatCall(body(textFields()), false, false))
	s.checkCancelled("Complete", err, 1)

	ctx, stop = context.WithTimeout(s.ctx(), 100*time.Millisecond)
	defer stop()
	_, err = hang.Complete(ctx, s.chatCall(body(textFields()), false, false))
	if e := s.mustAPIError("deadline", err); e != nil && e.Status != http.StatusGatewayTimeout {
		s.t.Errorf("deadline: status %d, want 504 (%v)", e.Status, e)
	}
	s.waitFor("the fake to see the deadline", func() bool { return s.fake.Cancelled() >= 2 })

	slow := s.provider(map[string]string{"X-Fake-Chunks": "200", "X-Fake-Chunk-Delay": "50ms"})
	f := textFields()
	f["stream"] = true
	ctx, stop = context.WithCancel(s.ctx())
	st, err := slow.Stream(ctx, s.chatCall(body(f), true, false))
	if err != nil {
		s.t.Fatalf("Stream: %v", err)
	}
	if _, err := st.Next(); err != nil {
		s.t.Fatalf("first chunk: %v", err)
	}
	stop()
	_, err = s.nextWithin(st)
	s.checkCancelled("Stream", err, 3)

	st, err = slow.Stream(s.ctx(), s.chatCall(body(f), true, false))
	if err != nil {
		s.t.Fatalf("Stream: %v", err)
	}
	if _, err := st.Next(); err != nil {
		s.t.Fatalf("first chunk: %v", err)
	}
	if err := st.Close(); err != nil {
		s.t.Errorf("Close: %v", err)
	}
	_ = st.Close() // Close is safe to call twice
	s.waitFor("the fake to see the closed stream", func() bool { return s.fake.Cancelled() >= 4 })
}

// checkCancelled wants a 499 client_closed_request, and the fake to see its client go.
func (s *suite) checkCancelled(what string, err error, cancelled int64) {
	s.t.Helper()
	e := s.mustAPIError(what, err)
	if e != nil && (e.Status != providersStatusClientClosed || e.Code != "client_closed_request" || e.Kind != apierr.KindCaller) {
		s.t.Errorf("%s after cancel: %+v, want 499 client_closed_request of kind caller", what, e)
	}
	s.waitFor(what+": the fake to see the client go", func() bool { return s.fake.Cancelled() >= cancelled })
}

// providersStatusClientClosed is nginx's 499, which every dialect uses for a caller
// that went away.
const providersStatusClientClosed = 499

func (s *suite) mustAPIError(what string, err error) *apierr.Error {
	s.t.Helper()
	if err == nil || errors.Is(err, io.EOF) {
		s.t.Errorf("%s: %v, want an error", what, err)
		return nil
	}
	return s.apiError(err)
}

// nextWithin calls Next, failing the test if it does not return within a generous
// liveness bound (a stream must notice its context, not hang).
func (s *suite) nextWithin(st schema.Stream) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		for {
			b, err := st.Next()
			if err != nil {
				ch <- result{b, err}
				return
			}
		}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(30 * time.Second):
		s.t.Fatal("Next did not return after the context was cancelled")
		return nil, nil
	}
}

// waitFor polls cond until it holds; a liveness bound, not a timing assertion.
func (s *suite) waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
