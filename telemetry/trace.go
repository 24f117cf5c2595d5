package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingOptions configure NewTracing.
type TracingOptions struct {
	// Getenv reads the OTEL_* variables that decide whether tracing is on; nil means
	// os.Getenv. (The OTLP exporters read their own settings from the process
	// environment.)
	Getenv func(string) string
	// Exporter, when set, receives every span instead of the exporter the environment
	// names, synchronously as each span ends; tests pass an in-memory exporter
	// (sdk/trace/tracetest).
	Exporter sdktrace.SpanExporter
	// Version is tollgate's version, recorded as service.version.
	Version string
}

// Tracing is the tracer provider: the SDK's when tracing is on, a no-op otherwise.
type Tracing struct {
	provider trace.TracerProvider
	shutdown func(context.Context) error
	on       bool
}

// NewTracing sets up tracing from the standard OpenTelemetry variables. It is off
// (a no-op provider, no cost beyond a call) unless OTEL_TRACES_EXPORTER names otlp, or
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set;
// OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off. The protocol is
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (the
// default) or grpc. The exporters read the endpoint, headers, timeout, compression and
// TLS settings themselves; the SDK reads OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_* and the
// span limits; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES name the resource
// (service.name defaults to tollgate).
func NewTracing(ctx context.Context, o TracingOptions) (*Tracing, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	var opt sdktrace.TracerProviderOption
	switch {
	case o.Exporter != nil:
		opt = sdktrace.WithSyncer(o.Exporter)
	default:
		exp, err := envExporter(ctx, o.Getenv)
		if err != nil || exp == nil {
			return &Tracing{provider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}, err
		}
		opt = sdktrace.WithBatcher(exp)
	}
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName("tollgate"),
		semconv.ServiceVersion(o.Version)), resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(opt, sdktrace.WithResource(res))
	return &Tracing{provider: tp, shutdown: tp.Shutdown, on: true}, nil
}

// envExporter returns the OTLP exporter the environment asks for, or nil when tracing
// is off.
func envExporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, nil
	}
	switch name := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); name {
	case "none":
		return nil, nil
	case "":
		if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return nil, nil
		}
	case "otlp":
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q is not supported: use otlp or none", name)
	}
	proto := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch proto {
	case "", "http/protobuf":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	}
	return nil, errors.New("OTEL_EXPORTER_OTLP_PROTOCOL: use http/protobuf or grpc")
}

// On reports whether spans are recorded and exported.
func (t *Tracing) On() bool { return t.on }

// Tracer returns tollgate's tracer.
func (t *Tracing) Tracer() trace.Tracer {
	return t.provider.Tracer("github.com/tollgate-llm/tollgate")
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }
