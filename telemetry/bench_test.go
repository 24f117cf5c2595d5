package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// accessLine logs what the server's access log writes for one request.
func accessLine(l *slog.Logger) {
	l.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("request_id", "req_0123456789abcdef01234567"),
		slog.String("method", "POST"), slog.String("path", "/v1/chat/completions"), slog.Int("status", 200),
		slog.Float64("latency_ms", 812.5), slog.String("client_ip", "192.0.2.10"), slog.Int("bytes_out", 1432),
		slog.String("key_id", "AbCdEfGhIjKl"), slog.String("project", "web"), slog.String("model", "gpt-4o-mini"),
		slog.Bool("stream", false), slog.String("provider", "openai"), slog.String("upstream_model", "gpt-4o-mini-2024-07-18"),
		slog.Int("attempts", 1), slog.Int64("prompt_tokens", 120), slog.Int64("completion_tokens", 380),
		slog.Duration("ttft", 90*time.Millisecond))
}

func BenchmarkAccessLogLine(b *testing.B) {
	for name, l := range map[string]*slog.Logger{
		"plain":     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		"redacting": NewLogger(io.Discard, slog.LevelInfo),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				accessLine(l)
			}
		})
	}
}

// BenchmarkObserveRequest measures what the observer adds to a request, with tracing
// off (the default) and on (exporting to memory).
func BenchmarkObserveRequest(b *testing.B) {
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	end := RequestEnd{Status: 200, Endpoint: "chat", RequestID: "req_1", Model: "gpt-4o-mini", Provider: "openai",
		UpstreamModel: "gpt-4o-mini", Attempts: 1, KeyID: "AbCdEfGhIjKl", PromptTokens: 10, CompletionTokens: 20}
	exp := tracetest.NewInMemoryExporter()
	on, _ := NewTracing(context.Background(), TracingOptions{Exporter: exp})
	for name, tr := range map[string]*Tracing{"off": nil, "on": on} {
		o := NewObserver(ObserverOptions{Tracing: tr, Metrics: NewMetrics(), Finished: func(Finished) {}})
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ctx, done := o.StartRequest(context.Background(), r, "/v1/chat/completions")
				_, attempt := o.StartAttempt(ctx, Attempt{Deployment: "openai", ProviderType: "openai", Model: "gpt-4o-mini", Number: 1})
				attempt(AttemptEnd{Outcome: "success"})
				done(end)
				exp.Reset()
			}
		})
	}
}
