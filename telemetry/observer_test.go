package telemetry

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

func newTestObserver(t *testing.T, m *Metrics, finished func(Finished)) (*Observer, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr, err := NewTracing(context.Background(), TracingOptions{Exporter: exp, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Shutdown(context.Background()) })
	return NewObserver(ObserverOptions{Tracing: tr, Metrics: m, Finished: finished}), exp
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		out[kv.Key] = kv.Value
	}
	return out
}

func TestRequestAndAttemptSpansFollowGenAIConventions(t *testing.T) {
	o, exp := newTestObserver(t, NewMetrics(), nil)
	r := httptest.NewRequest("POST", "http://gw.example:8080/v1/chat/completions", nil)
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx, end := o.StartRequest(context.Background(), r, "/v1/chat/completions")
	_, endFirst := o.StartAttempt(ctx, Attempt{Deployment: "claude-eu", ProviderType: "anthropic",
		Model: "claude-sonnet-4-5", CredentialID: "pk_1", Number: 1})
	endFirst(AttemptEnd{Outcome: "failure", Status: 503, Code: "upstream_error"})
	_, endSecond := o.StartAttempt(ctx, Attempt{Deployment: "gem", ProviderType: "gemini",
		Model: "gemini-2.5-pro", CredentialID: "pk_2", Number: 2})
	endSecond(AttemptEnd{Outcome: "success"})
	end(RequestEnd{Status: 200, Endpoint: "chat", RequestID: "req_1", Model: "smart", Provider: "gem",
		UpstreamModel: "gemini-2.5-pro", Attempts: 2, KeyID: "AbCdEfGhIjKl", Project: "p",
		PromptTokens: 12, CompletionTokens: 34, ClientIP: "192.0.2.7"})

	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("got %d spans, want 3", len(spans))
	}
	first, second, req := spans[0], spans[1], spans[2]
	if req.Name != "POST /v1/chat/completions" || req.SpanKind != trace.SpanKindServer {
		t.Errorf("request span %q kind %v", req.Name, req.SpanKind)
	}
	if req.Parent.IsValid() || len(req.Links) != 1 || req.Links[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("the client's traceparent must be a link, not the parent: parent %v links %v", req.Parent, req.Links)
	}
	for _, a := range []tracetest.SpanStub{first, second} {
		if a.Parent.SpanID() != req.SpanContext.SpanID() || a.SpanKind != trace.SpanKindClient {
			t.Errorf("attempt %q is not a client child of the request", a.Name)
		}
	}
	if first.Name != "chat claude-sonnet-4-5" || first.Status.Code != codes.Error {
		t.Errorf("first attempt: %q status %v", first.Name, first.Status)
	}
	want := map[attribute.Key]string{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
		"gen_ai.request.model": "claude-sonnet-4-5", "error.type": "upstream_error", "tollgate.provider_key.id": "pk_1"}
	for k, v := range want {
		if got := attrs(first)[k].AsString(); got != v {
			t.Errorf("first attempt %s = %q, want %q", k, got, v)
		}
	}
	ra := attrs(req)
	for k, v := range map[attribute.Key]string{"gen_ai.operation.name": "chat", "gen_ai.request.model": "smart",
		"gen_ai.response.model": "gemini-2.5-pro", "gen_ai.provider.name": "gcp.gemini", "tollgate.key_id": "AbCdEfGhIjKl",
		"server.address": "gw.example", "http.route": "/v1/chat/completions"} {
		if got := ra[k].AsString(); got != v {
			t.Errorf("request %s = %q, want %q", k, got, v)
		}
	}
	if ra["gen_ai.usage.input_tokens"].AsInt64() != 12 || ra["gen_ai.usage.output_tokens"].AsInt64() != 34 {
		t.Errorf("usage attributes: %v", ra)
	}
}

func TestSpansRedactWhatClientsSend(t *testing.T) {
	o, exp := newTestObserver(t, nil, nil)
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r.Header.Set("User-Agent", "app/1.0 key="+testKey)
	ctx, end := o.StartRequest(context.Background(), r, "/v1/chat/completions")
	_, ea := o.StartAttempt(ctx, Attempt{Deployment: "d", ProviderType: "openai", Model: testKey, Number: 1})
	ea(AttemptEnd{Outcome: "client_error", Status: 400, Code: testKey})
	end(RequestEnd{Status: 400, Endpoint: "chat", RequestID: testKey, Model: testKey, ErrorCode: testKey,
		Err: apierr.InvalidValue("model", "bad")})
	for _, s := range exp.GetSpans() {
		if strings.Contains(s.Name, testKey) {
			t.Errorf("span name holds the key: %s", s.Name)
		}
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.Emit(), testKey) {
				t.Errorf("attribute %s holds the key", kv.Key)
			}
		}
		if strings.Contains(s.Status.Description, testKey) {
			t.Errorf("status holds the key")
		}
	}
}

func TestFinishedRequestsCarryAuthFailuresAndSpendRows(t *testing.T) {
	var got []Finished
	o, _ := newTestObserver(t, nil, func(f Finished) { got = append(got, f) })
	key := "tgk_AbCdEfGhIjKl_" + strings.Repeat("a", 32)
	key += keys.Checksum(key)
	for _, c := range []struct {
		route  string
		status int
		keyID  string
	}{
		{"/v1/chat/completions", 401, ""},   // refused: an auth failure
		{"/v1/models", 403, ""},             // ip_not_allowed: an auth failure
		{"/admin/v1/keys", 401, ""},         // admin: audited elsewhere
		{"/v1/chat/completions", 200, "id"}, // authenticated and billed
		{"/v1/chat/completions", 404, "id"}, // authenticated, then failed
	} {
		r := httptest.NewRequest("POST", c.route, nil)
		r.Header.Set("Authorization", "Bearer "+key)
		ctx, end := o.StartRequest(context.Background(), r, c.route)
		if c.status == 200 {
			AttachSpend(context.WithoutCancel(ctx), store.SpendRow{ID: "req_1", CostNano: 42})
		}
		end(RequestEnd{Status: c.status, KeyID: c.keyID, ErrorCode: "invalid_api_key", ClientIP: "192.0.2.1"})
	}
	if len(got) != 5 {
		t.Fatalf("got %d finished requests, want 5", len(got))
	}
	for i, want := range []bool{true, true, false, false, false} {
		if got[i].AuthFailed != want {
			t.Errorf("request %d: AuthFailed = %v, want %v", i, got[i].AuthFailed, want)
		}
	}
	if got[0].PresentedKeyID != "AbCdEfGhIjKl" || got[0].ClientIP != "192.0.2.1" || got[0].Method != "POST" {
		t.Errorf("auth failure: %+v", got[0])
	}
	if got[3].Spend == nil || got[3].Spend.CostNano != 42 || got[4].Spend != nil {
		t.Errorf("spend rows: %v, %v", got[3].Spend, got[4].Spend)
	}
}

func TestTracingIsOffWithoutOTELVariables(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"unset":    {},
		"none":     {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
		"disabled": {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
	} {
		tr, err := NewTracing(context.Background(), TracingOptions{Getenv: func(k string) string { return env[k] }})
		if err != nil || tr.On() {
			t.Errorf("%s: on=%v err=%v, want off", name, tr.On(), err)
		}
	}
	on := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
	tr, err := NewTracing(context.Background(), TracingOptions{Getenv: func(k string) string { return on[k] }})
	if err != nil || !tr.On() {
		t.Fatalf("endpoint set: on=%v err=%v", tr.On(), err)
	}
	tr.Shutdown(context.Background())
	bad := map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}
	if _, err := NewTracing(context.Background(), TracingOptions{Getenv: func(k string) string { return bad[k] }}); err == nil {
		t.Error("an unsupported exporter was accepted")
	}
}
