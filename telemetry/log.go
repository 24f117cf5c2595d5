// Package telemetry is tollgate's logs, traces and metrics.
//
// # Logs
//
// Logs are slog JSON (or text) behind a redaction handler (NewRedactingHandler): any
// string that looks like a tollgate key or a well-known provider key is replaced before
// it is written, wherever it comes from — the message, attributes, attributes added with
// With, groups, and values resolved from LogValuers — so no code path can log a secret
// by accident. Records of plain values with nothing shaped like a secret (the usual
// access log line) pass through untouched, at no measurable cost.
//
// # Traces
//
// OpenTelemetry traces are off unless the standard OTEL_* variables turn them on
// (NewTracing): then every request has a server span and every upstream attempt a
// client span under it ("chat gpt-4o"), with the GenAI semantic conventions'
// attributes (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model,
// gen_ai.response.model, gen_ai.usage.input_tokens and output_tokens, error.type) and
// the HTTP ones (http.route, http.response.status_code, server.address,
// client.address), plus tollgate.key_id, tollgate.provider (the deployment),
// tollgate.provider_key.id (a credential id) and tollgate.attempt. Never a key, a
// prompt or an answer. A client's traceparent becomes a link, not the parent, and no
// trace context is sent upstream (see Observer).
//
// # Metrics
//
// Prometheus metrics (Metrics): requests, errors by kind, limit denials, latency and
// time-to-first-token histograms, tokens, cost, circuit breaker and provider key
// states, upstream attempts in flight and queue depths, by endpoint, model, provider
// and error code; never by key (see Metrics for why, and for the label bounds).
package telemetry

import (
	"io"
	"log/slog"
)

// NewLogger returns a JSON logger with redaction at the given level.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return NewLoggerFormat(w, level, "json")
}

// NewLoggerFormat returns a logger with redaction in "json" or "text" format.
func NewLoggerFormat(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(NewRedactingHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(NewRedactingHandler(slog.NewJSONHandler(w, opts)))
}

// ParseLevel maps "debug", "info", "warn" and "error" to a level; anything else is info.
func ParseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
