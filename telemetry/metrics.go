package telemetry

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-llm/tollgate/apierr"
)

// Metrics are tollgate's Prometheus metrics, on a registry of their own.
//
// Labels are bounded: endpoint (chat, completions, embeddings), model (a configured
// route name: any other name a client sends is counted as "other", see SetModels),
// provider (a configured deployment name), status, error kind (caller, policy,
// provider, gateway) and error code (tollgate's codes and upstream error codes, cut to
// a short identifier). Metrics are never labelled by key: not by secret, and not by key
// id either, because keys are unbounded (every ephemeral child key is one); per-key
// numbers are in the spend reports and the request log. Provider key ids appear only in
// tollgate_provider_key_state, where the operator's configuration bounds them.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	denials  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ttft     *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	cost     *costCollector
	queues   *queueCollector
	breakers *breakerCollector
	// known reports whether a model name is a configured route; nil accepts all.
	known atomic.Pointer[func(string) bool]
}

// NewMetrics registers the metrics and the Go runtime collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), cost: newCostCollector(), queues: &queueCollector{},
		breakers: &breakerCollector{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_requests_total", Help: "Requests answered, by endpoint, model, provider, status and error code.",
	}, []string{"endpoint", "model", "provider", "status", "code"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_request_errors_total", Help: "Failed inference requests, by endpoint, model, provider, error kind and code.",
	}, []string{"endpoint", "model", "provider", "kind", "code"})
	m.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_limit_denials_total", Help: "Requests refused by a rate limit or a budget, by endpoint, model, code and type.",
	}, []string{"endpoint", "model", "code", "type"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tollgate_request_duration_seconds", Help: "Time from request to the end of the answer.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14),
	}, []string{"endpoint", "model", "provider"})
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tollgate_time_to_first_token_seconds", Help: "Time from request to the first streamed chunk.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12),
	}, []string{"model", "provider"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_tokens_total", Help: "Tokens reported by upstreams, by direction.",
	}, []string{"model", "provider", "direction"})
	m.reg.MustRegister(m.requests, m.errors, m.denials, m.latency, m.ttft, m.tokens, m.cost, m.queues, m.breakers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for packages that add their own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// SetModels makes every model name for which known is false count as "other", so that
// names clients make up cannot grow the metrics without bound (nor carry text into
// them). The app passes the router's lookup.
func (m *Metrics) SetModels(known func(name string) bool) { m.known.Store(&known) }

// model returns the label value of a model name.
func (m *Metrics) model(name string) string {
	if name == "" {
		return ""
	}
	if k := m.known.Load(); k != nil && !(*k)(name) {
		return "other"
	}
	return Redact(name)
}

// Request records one answered request.
func (m *Metrics) Request(endpoint, model, provider string, status int, code string, d time.Duration) {
	model = m.model(model)
	m.requests.WithLabelValues(endpoint, model, provider, strconv.Itoa(status), codeLabel(code)).Inc()
	if model != "" {
		m.latency.WithLabelValues(endpoint, model, provider).Observe(d.Seconds())
	}
}

// requestOutcome records a failed inference request's error kind, and a refusal by a
// limit or a budget.
func (m *Metrics) requestOutcome(endpoint, model, provider string, e *apierr.Error) {
	if e == nil {
		return
	}
	model = m.model(model)
	m.errors.WithLabelValues(endpoint, model, provider, e.Kind.String(), codeLabel(e.Code)).Inc()
	if e.Kind == apierr.KindPolicy && e.Status == http.StatusTooManyRequests {
		m.denials.WithLabelValues(endpoint, model, codeLabel(e.Code), codeLabel(e.Type)).Inc()
	}
}

// FirstToken records a stream's time to first token.
func (m *Metrics) FirstToken(model, provider string, d time.Duration) {
	m.ttft.WithLabelValues(m.model(model), provider).Observe(d.Seconds())
}

// Tokens records usage.
func (m *Metrics) Tokens(model, provider string, prompt, completion int64) {
	model = m.model(model)
	if prompt > 0 {
		m.tokens.WithLabelValues(model, provider, "prompt").Add(float64(prompt))
	}
	if completion > 0 {
		m.tokens.WithLabelValues(model, provider, "completion").Add(float64(completion))
	}
}

// Cost records what a request cost, in nano-USD. It is summed exactly and shown in USD.
func (m *Metrics) Cost(model, provider string, nanoUSD int64) {
	if nanoUSD > 0 {
		m.cost.add(m.model(model), provider, nanoUSD)
	}
}

// codeLabel keeps an error code as a label when it is a short identifier, and names
// anything else "other": upstream codes are the upstream's text.
func codeLabel(code string) string {
	if len(code) > 48 {
		return "other"
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return "other"
		}
	}
	return Redact(code)
}
