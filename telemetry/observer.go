package telemetry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// ObserverOptions configure an Observer. Every field is optional.
type ObserverOptions struct {
	Tracing *Tracing
	Metrics *Metrics
	// Finished hears about every request once it is answered, with its spend row when
	// billing recorded one: the request log and the anomaly detectors feed on it. It
	// runs on the request's goroutine and must not block.
	Finished func(Finished)
}

// Observer sees every request and every upstream attempt: it opens their spans,
// records the metrics that need the whole request (errors by kind, limit denials) and
// hands each finished request on (ObserverOptions.Finished). The server calls
// StartRequest; the router, through the app, calls StartAttempt; billing's spend rows
// reach it through AttachSpend.
//
// Spans carry the GenAI semantic conventions' attributes and never a key or a prompt:
// only route names, ids and counts, and every value a client or an upstream can
// influence goes through Redact. A client's traceparent is not trusted as a parent:
// the request span starts a new trace with a link to the client's span (as OpenTelemetry
// advises for public endpoints), so a client can neither force nor suppress sampling.
// No trace context is sent upstream: providers are third parties, and tollgate sends
// them an exact list of headers.
type Observer struct {
	opts   ObserverOptions
	tracer trace.Tracer
	prop   propagation.TraceContext
}

// NewObserver returns an observer.
func NewObserver(o ObserverOptions) *Observer {
	ob := &Observer{opts: o}
	if o.Tracing != nil && o.Tracing.On() {
		ob.tracer = o.Tracing.Tracer()
	}
	return ob
}

// RequestEnd is what the server knows once a request is answered.
type RequestEnd struct {
	Status int
	// Endpoint is the inference endpoint (chat, completions, embeddings); empty for
	// other routes.
	Endpoint                       string
	RequestID                      string
	Model, Provider, UpstreamModel string
	Attempts                       int
	Stream                         bool
	// KeyID and Project are the authenticated key's; empty when authentication failed.
	KeyID, Project                 string
	PromptTokens, CompletionTokens int64
	// CostNano is what the request cost, in nano-USD.
	CostNano int64
	TTFT     time.Duration
	// ErrorCode is the apierr code of a failure; Err the failure itself.
	ErrorCode string
	Err       error
	ClientIP  string
}

// Finished is a request once it is answered, for the request log and the detectors.
type Finished struct {
	RequestEnd
	Start   time.Time
	Latency time.Duration
	// Method is the HTTP method ("_OTHER" for non-standard ones), Route the route
	// template, empty when none matched.
	Method, Route string
	UserAgent     string
	// AuthFailed is true for a client API request (/v1) refused while authenticating
	// its key; PresentedKeyID is then the public id of the key it presented, when that
	// key was well formed (checksum included). The key itself is never kept.
	AuthFailed     bool
	PresentedKeyID string
	// Spend is the request's spend row, nil when billing recorded none (a request
	// refused before admission).
	Spend *store.SpendRow
}

// requestState is a request's telemetry state, in its context.
type requestState struct {
	span      trace.Span
	operation string
	mu        sync.Mutex
	provider  attribute.KeyValue // gen_ai.provider.name of the latest attempt
	spend     *store.SpendRow
}

type stateKey struct{}

// AttachSpend hands the request's spend row to its observer, which passes it on with
// the finished request. ctx must descend from the request's context; billing's
// Finish passes it on to its row sink.
func AttachSpend(ctx context.Context, row store.SpendRow) {
	if st, ok := ctx.Value(stateKey{}).(*requestState); ok {
		st.mu.Lock()
		st.spend = &row
		st.mu.Unlock()
	}
}

// StartRequest opens the request's span. route is the route template ("" when no
// route matched). The returned function ends it and must be called once.
func (o *Observer) StartRequest(ctx context.Context, r *http.Request, route string) (context.Context, func(RequestEnd)) {
	start := time.Now()
	st := &requestState{operation: operationOf(route)}
	if o.tracer != nil {
		ctx, st.span = o.startSpan(ctx, r, route)
	}
	ctx = context.WithValue(ctx, stateKey{}, st)
	return ctx, func(e RequestEnd) { o.endRequest(r, route, start, st, e) }
}

func (o *Observer) startSpan(ctx context.Context, r *http.Request, route string) (context.Context, trace.Span) {
	name := methodName(r.Method)
	if route != "" {
		name += " " + route
	}
	attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(methodName(r.Method)),
		semconv.URLScheme(scheme(r)), str(semconv.ServerAddressKey, hostOnly(r.Host)),
		str(semconv.UserAgentOriginalKey, r.UserAgent())}
	if route != "" {
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithNewRoot(),
		trace.WithAttributes(attrs...)}
	if remote := trace.SpanContextFromContext(o.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))); remote.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: remote}))
	}
	return o.tracer.Start(ctx, name, opts...)
}

// endRequest ends the span, records the request's metrics and hands the request on.
func (o *Observer) endRequest(r *http.Request, route string, start time.Time, st *requestState, e RequestEnd) {
	if st.span != nil {
		st.span.SetAttributes(requestAttrs(st, e)...)
		if e.ErrorCode != "" {
			st.span.SetAttributes(str(semconv.ErrorTypeKey, e.ErrorCode))
		}
		if e.Status >= 500 {
			st.span.SetStatus(codes.Error, Redact(e.ErrorCode))
		}
		st.span.End()
	}
	if o.opts.Metrics != nil && e.Endpoint != "" && e.Status >= 400 {
		o.opts.Metrics.requestOutcome(e.Endpoint, e.Model, e.Provider, apierr.From(e.Err))
	}
	if o.opts.Finished == nil {
		return
	}
	f := Finished{RequestEnd: e, Start: start, Latency: time.Since(start), Method: methodName(r.Method),
		Route: route, UserAgent: r.UserAgent()}
	if authFailed(route, r, e) {
		f.AuthFailed, f.PresentedKeyID = true, presentedKeyID(r)
	}
	st.mu.Lock()
	f.Spend = st.spend
	st.mu.Unlock()
	o.opts.Finished(f)
}

func requestAttrs(st *requestState, e RequestEnd) []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.HTTPResponseStatusCode(e.Status),
		str("tollgate.request_id", e.RequestID), str(semconv.ClientAddressKey, e.ClientIP)}
	if e.KeyID != "" {
		attrs = append(attrs, str("tollgate.key_id", e.KeyID), str("tollgate.project", e.Project))
	}
	if st.operation == "" || e.Model == "" {
		return attrs
	}
	attrs = append(attrs, semconv.GenAIOperationNameKey.String(st.operation),
		str(semconv.GenAIRequestModelKey, e.Model), attribute.Bool("tollgate.stream", e.Stream),
		attribute.Int("tollgate.attempts", e.Attempts))
	if e.Provider != "" {
		attrs = append(attrs, str("tollgate.provider", e.Provider), str(semconv.GenAIResponseModelKey, e.UpstreamModel))
		st.mu.Lock()
		if st.provider.Valid() {
			attrs = append(attrs, st.provider)
		}
		st.mu.Unlock()
	}
	if e.PromptTokens > 0 || e.CompletionTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageInputTokens(int(e.PromptTokens)),
			semconv.GenAIUsageOutputTokens(int(e.CompletionTokens)))
	}
	if e.TTFT > 0 {
		attrs = append(attrs, attribute.Float64("tollgate.time_to_first_token", e.TTFT.Seconds()))
	}
	return attrs
}

// authFailed reports whether a client API request was refused while authenticating:
// no key was accepted, and the answer is the refusal of a key (401), of its address or
// hours (403), or of an address that failed too often (429).
func authFailed(route string, r *http.Request, e RequestEnd) bool {
	path := route
	if path == "" {
		path = r.URL.Path
	}
	return strings.HasPrefix(path, "/v1/") && e.KeyID == "" &&
		(e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status == http.StatusTooManyRequests)
}

// presentedKeyID returns the public id of the tollgate key the request presented, when
// it is well formed; the key is read and dropped here, never kept.
func presentedKeyID(r *http.Request) string {
	for _, v := range []string{strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")),
		r.Header.Get("api-key"), r.Header.Get("x-api-key")} {
		if p, err := keys.Parse(v); err == nil {
			return p.ID
		}
	}
	return ""
}
