package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

var (
	dataPrefix = []byte("data: ")
	eventEnd   = []byte("\n\n")
	doneEvent  = []byte("data: [DONE]\n\n")
)

// stream relays an upstream stream as server-sent events, one flush per chunk. The
// router returns a stream only once its first chunk arrived, so every failure before it
// (retried and failed over in the router) still answers with a proper HTTP error;
// after it, a failure ends the stream with an error event in OpenAI's shape and no
// [DONE].
func (s *Server) stream(c *gin.Context, ri *reqInfo, req *schema.Request, adm *admission) {
	ctx := c.Request.Context()
	st, meta, err := s.Router.Stream(ctx, req)
	ri.provider, ri.upstream, ri.attempts = meta.Provider, meta.UpstreamModel, meta.Attempts
	setRouteHeaders(c, meta.Provider, meta.UpstreamModel, meta.Attempts)
	if err != nil {
		writeError(c, err)
		adm.finish(ctx, ri, statusOf(err), schema.Usage{}, false, false)
		return
	}
	ended, finished := false, false
	// end bills the stream and frees its rate limits. It runs before the last event is
	// written: a client that sends its next request on reading [DONE] must find the
	// concurrency slot already free.
	end := func() {
		if finished {
			return
		}
		finished = true
		st.Close()
		u, ok := st.Usage()
		if ok {
			ri.prompt, ri.complete = u.PromptTokens, u.CompletionTokens
		}
		adm.finish(ctx, ri, http.StatusOK, u, ok, !ended)
		s.recordUsage(ri)
	}
	defer end()
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	ri.ttft = time.Since(ri.start)
	if s.metrics != nil {
		s.metrics.FirstToken(ri.model, ri.provider, ri.ttft)
	}
	w := c.Writer
	chunk, err := st.Next()
	for ; err == nil; chunk, err = st.Next() {
		if adm.meter != nil {
			adm.meter.AddChunk(chunk)
		}
		w.Write(dataPrefix)
		w.Write(chunk)
		if _, werr := w.Write(eventEnd); werr != nil {
			ri.errCode = "client_closed_request"
			return
		}
		w.Flush()
	}
	if err == io.EOF {
		ended = true
		end()
		w.Write(doneEvent)
		w.Flush()
		return
	}
	e := streamError(ctx, err)
	ri.errCode, ri.err = e.Code, err
	if e.Status == 499 {
		return
	}
	end()
	w.Write(dataPrefix)
	w.Write(errorJSON(e))
	w.Write(eventEnd)
	w.Flush()
}

// streamError names why a stream stopped: the client left, or the upstream failed.
func streamError(ctx context.Context, err error) *apierr.Error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return apierr.New(apierr.KindCaller, 499, "invalid_request_error", "client_closed_request",
			"the client closed the connection").WithCause(err)
	}
	return apierr.From(err)
}
