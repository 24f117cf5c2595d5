package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/telemetry"
)

// RequestObserver opens telemetry around every request; telemetry.Observer is one.
type RequestObserver interface {
	StartRequest(ctx context.Context, r *http.Request, route string) (context.Context, func(telemetry.RequestEnd))
}

var _ RequestObserver = (*telemetry.Observer)(nil)

// observe starts the observer's record of the request, when there is an observer.
func (s *Server) observe(ctx context.Context, c *gin.Context, ri *reqInfo) context.Context {
	if s.Observer == nil {
		return ctx
	}
	ctx, ri.end = s.Observer.StartRequest(ctx, c.Request, c.FullPath())
	return ctx
}

// endObserved ends the observer's record with what the request came to.
func (s *Server) endObserved(c *gin.Context, ri *reqInfo, status int) {
	if ri.end == nil {
		return
	}
	e := telemetry.RequestEnd{Status: status, Endpoint: ri.endpoint, RequestID: ri.id, Model: ri.model,
		Provider: ri.provider, UpstreamModel: ri.upstream, Attempts: ri.attempts, Stream: ri.stream,
		PromptTokens: ri.prompt, CompletionTokens: ri.complete, CostNano: ri.cost, TTFT: ri.ttft,
		ErrorCode: ri.errCode, Err: ri.err, ClientIP: ri.clientIP}
	if p := ri.principal; p != nil {
		e.KeyID, e.Project = p.ID, p.Project
	}
	ri.end(e)
}
