package export

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/telemetry"
)

const testKey = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"

var t0 = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

// memSink keeps what it was given.
type memSink struct {
	lines chan []byte
}

func newMemSink() *memSink { return &memSink{lines: make(chan []byte, 1000)} }

func (m *memSink) Write(_ context.Context, lines [][]byte) error {
	for _, l := range lines {
		m.lines <- append([]byte(nil), l...)
	}
	return nil
}

func (m *memSink) Close() error { return nil }

func (m *memSink) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case l := <-m.lines:
		var v map[string]any
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatalf("line is not JSON: %s", l)
		}
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no line was written")
	}
	return nil
}

// run starts an exporter with one memory sink and stops it at cleanup.
func run(t *testing.T, format string) (*Exporter, *memSink) {
	t.Helper()
	sink := newMemSink()
	e, err := New(Options{Format: format, Sinks: map[string]Sink{"mem": sink}, FlushInterval: 10 * time.Millisecond,
		Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, sink
}

func billed() telemetry.Finished {
	return telemetry.Finished{RequestEnd: telemetry.RequestEnd{Status: 200, Endpoint: "chat", RequestID: "req_1",
		Model: "gpt-4o", KeyID: "AbCdEfGhIjKl", ClientIP: "192.0.2.7"}, Start: t0, Method: "POST",
		Route: "/v1/chat/completions", UserAgent: "app/1",
		Spend: &store.SpendRow{ID: "req_1", Time: t0, RecordType: "request", RequestID: "req_1", Attempt: 1,
			KeyID: "AbCdEfGhIjKl", Project: "web", Endpoint: "chat", Model: "gpt-4o", Provider: "openai",
			UpstreamModel: "gpt-4o-2024-08-06", Status: 200, PromptTokens: 12, CompletionTokens: 30,
			CostNano: 1_234_567, UsageSource: "provider", LatencyMS: 850, TTFTMS: 120, Attempts: 1,
			SourceIP: "192.0.2.7", UserAgent: "app/1 " + testKey}}
}

func TestJSONLinesCarryTheLogsFields(t *testing.T) {
	e, sink := run(t, FormatJSON)
	e.Request(billed())
	refused := telemetry.Finished{RequestEnd: telemetry.RequestEnd{Status: 429, Endpoint: "chat", RequestID: "req_2",
		Model: "gpt-4o", KeyID: "AbCdEfGhIjKl", Project: "web", ErrorCode: "rate_limit_exceeded", ClientIP: "192.0.2.7"},
		Start: t0, Latency: 3 * time.Millisecond, Method: "POST", Route: "/v1/chat/completions"}
	e.Request(refused)
	e.Request(telemetry.Finished{RequestEnd: telemetry.RequestEnd{Status: 401, RequestID: "req_3",
		ErrorCode: "revoked_api_key", ClientIP: "198.51.100.9"}, Start: t0, Method: "POST",
		Route: "/v1/chat/completions", AuthFailed: true, PresentedKeyID: "ZyXwVuTsRqPo"})

	got := sink.next(t)
	for k, want := range map[string]any{"event": "request", "id": "req_1", "key_id": "AbCdEfGhIjKl", "project": "web",
		"endpoint": "chat", "model": "gpt-4o", "provider": "openai", "upstream_model": "gpt-4o-2024-08-06",
		"status": 200.0, "prompt_tokens": 12.0, "completion_tokens": 30.0, "cost_usd": 0.001234567,
		"latency_ms": 850.0, "ttft_ms": 120.0, "attempts": 1.0, "source_ip": "192.0.2.7", "route": "/v1/chat/completions"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if ua := got["user_agent"].(string); strings.Contains(ua, testKey) || !strings.HasPrefix(ua, "app/1 ") {
		t.Errorf("user agent not redacted: %q", ua)
	}
	got = sink.next(t)
	if got["status"] != 429.0 || got["error_code"] != "rate_limit_exceeded" || got["usage_source"] != "none" ||
		got["latency_ms"] != 3.0 || got["project"] != "web" {
		t.Errorf("refused request: %v", got)
	}
	got = sink.next(t)
	if got["event"] != "auth_failure" || got["key_id"] != "ZyXwVuTsRqPo" || got["error_code"] != "revoked_api_key" {
		t.Errorf("auth failure: %v", got)
	}
}

func TestOCSFRequestsAndKeyFailures(t *testing.T) {
	e, sink := run(t, FormatOCSF)
	e.Request(billed())
	e.Request(telemetry.Finished{RequestEnd: telemetry.RequestEnd{Status: 401, RequestID: "req_3",
		ErrorCode: "invalid_api_key", ClientIP: "198.51.100.9"}, Start: t0, Method: "POST",
		Route: "/v1/chat/completions", AuthFailed: true})

	api := sink.next(t)
	requireOCSF(t, api, 6003, 6, 1)
	for _, path := range []string{"actor.user.uid", "api.operation", "src_endpoint.ip", "metadata.product.vendor_name"} {
		if field(api, path) == nil {
			t.Errorf("API Activity lacks %s: %v", path, api)
		}
	}
	if field(api, "actor.user.uid") != "AbCdEfGhIjKl" || field(api, "unmapped.cost_usd") != 0.001234567 ||
		field(api, "status_id") != 1.0 || field(api, "time") != float64(t0.UnixMilli()) {
		t.Errorf("API Activity: %v", api)
	}
	auth := sink.next(t)
	requireOCSF(t, auth, 3002, 3, 1)
	if field(auth, "status_id") != 2.0 || field(auth, "user.name") != "unknown" || field(auth, "service.name") != "tollgate" ||
		field(auth, "status_detail") != "invalid_api_key" || field(auth, "src_endpoint.ip") != "198.51.100.9" {
		t.Errorf("Authentication: %v", auth)
	}
}

func TestAuditEventsGoToTheSameSinks(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatOCSF} {
		e, sink := run(t, format)
		e.Audit(audit.Entry{Seq: 7, Time: t0, ActorID: "adm_1", ActorName: "ops", SourceIP: "10.0.0.1",
			Action: "key.revoke", Target: "key:AbCdEfGhIjKl", Details: map[string]any{"reason": "leaked " + testKey}})
		e.Audit(audit.Entry{Seq: 8, Time: t0, ActorID: "unknown", SourceIP: "10.0.0.2", Action: "admin.auth_failed"})
		revoke, failed := sink.next(t), sink.next(t)
		if format == FormatJSON {
			if revoke["event"] != "audit" || revoke["action"] != "key.revoke" || revoke["seq"] != 7.0 {
				t.Errorf("json audit: %v", revoke)
			}
			if r := field(revoke, "details.reason").(string); strings.Contains(r, testKey) {
				t.Errorf("audit details not redacted: %q", r)
			}
			continue
		}
		requireOCSF(t, revoke, 6003, 6, 4) // revoke is a Delete
		if field(revoke, "resources") == nil || field(revoke, "actor.user.uid") != "adm_1" {
			t.Errorf("ocsf audit: %v", revoke)
		}
		requireOCSF(t, failed, 3002, 3, 1)
	}
}

// requireOCSF checks the base event's required attributes.
func requireOCSF(t *testing.T, ev map[string]any, class, category, activity float64) {
	t.Helper()
	for _, k := range []string{"activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time",
		"metadata.version", "metadata.product.name"} {
		if field(ev, k) == nil {
			t.Errorf("event lacks required %s: %v", k, ev)
		}
	}
	if field(ev, "class_uid") != class || field(ev, "category_uid") != category || field(ev, "activity_id") != activity ||
		field(ev, "type_uid") != class*100+activity {
		t.Errorf("class %v category %v activity %v type %v", ev["class_uid"], ev["category_uid"], ev["activity_id"], ev["type_uid"])
	}
}

// field reads a dotted path.
func field(v map[string]any, path string) any {
	var cur any = v
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}
