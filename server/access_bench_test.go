package server

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// BenchmarkRequestBookkeeping is what every request pays around its handler: the
// request id, the per-request state, the client's address and the JSON access log line
// (through the redacting handler, to io.Discard).
func BenchmarkRequestBookkeeping(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{log: telemetry.NewLogger(io.Discard, slog.LevelInfo)}
	e := gin.New()
	e.Use(s.begin)
	p := &keys.Principal{ID: "AbCdEfGhIjKl", Project: "web"}
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion"}`)
	e.POST("/v1/chat/completions", func(c *gin.Context) {
		ri := info(c)
		ri.principal, ri.endpoint, ri.model, ri.provider, ri.upstream = p, "chat", "gpt-4o-mini", "openai", "gpt-4o-mini-2024-07-18"
		ri.attempts, ri.prompt, ri.complete, ri.cost, ri.ttft = 1, 120, 380, 123456, 90*time.Millisecond
		_ = clientAddr(c)
		c.Data(200, "application/json", body)
	})
	req := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	req.RemoteAddr = "192.0.2.10:54321"
	b.ReportAllocs()
	for b.Loop() {
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
}
