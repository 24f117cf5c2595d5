package export

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// Event names of the JSON format.
const (
	EventRequest     = "request"
	EventAuthFailure = "auth_failure"
	EventAudit       = "audit"
)

// RequestLine is one request in the JSON format: the /logs fields, and the method and
// route (which tell the non-inference calls apart).
type RequestLine struct {
	Event string `json:"event"`
	billing.LogRow
	Method string `json:"method"`
	Route  string `json:"route"`
}

// AuditLine is one audit event in the JSON format: the GET /admin/v1/audit fields.
type AuditLine struct {
	Event string `json:"event"`
	audit.Entry
}

// logRowOf is the request's /logs row: billing's spend row when it has one, else what
// the server knew (a request refused before it was admitted has no spend row, no
// tokens and no cost).
func logRowOf(f telemetry.Finished) billing.LogRow {
	if f.Spend != nil {
		return billing.LogRowOf(*f.Spend)
	}
	e := f.RequestEnd
	keyID := e.KeyID
	if f.AuthFailed {
		keyID = f.PresentedKeyID
	}
	return billing.LogRowOf(store.SpendRow{ID: e.RequestID, Time: f.Start, RecordType: store.SpendRequest,
		RequestID: e.RequestID, Attempt: max(e.Attempts, 1), KeyID: keyID, Project: e.Project,
		Endpoint: e.Endpoint, Model: e.Model, Provider: e.Provider, UpstreamModel: e.UpstreamModel,
		Status: e.Status, Stream: e.Stream, PromptTokens: e.PromptTokens, CompletionTokens: e.CompletionTokens,
		CostNano: e.CostNano, UsageSource: billing.SourceNone, LatencyMS: f.Latency.Milliseconds(),
		TTFTMS: e.TTFT.Milliseconds(), Attempts: e.Attempts, ErrorCode: e.ErrorCode, SourceIP: e.ClientIP,
		UserAgent: f.UserAgent})
}

// requestLine is the JSON-format line of a request.
func requestLine(f telemetry.Finished) RequestLine {
	ev := EventRequest
	if f.AuthFailed {
		ev = EventAuthFailure
	}
	return RequestLine{Event: ev, LogRow: logRowOf(f), Method: f.Method, Route: f.Route}
}

// encode marshals v as one line. When anything in it looks like a secret, every string
// in it is redacted and it is marshalled again: redacting the encoded text directly
// could cut through an escape sequence.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || !telemetry.HasSecret(string(b)) {
		return b, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // Numbers (money above all) come back exactly as they were.
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return json.Marshal(redactTree(tree))
}

// redactTree redacts every string, keys included, of a decoded JSON value.
func redactTree(v any) any {
	switch x := v.(type) {
	case string:
		return telemetry.Redact(x)
	case []any:
		for i := range x {
			x[i] = redactTree(x[i])
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[telemetry.Redact(k)] = redactTree(e)
		}
		return out
	}
	return v
}

// verbOf returns the last part of a dotted audit action ("key.create" → "create").
func verbOf(action string) string {
	return action[strings.LastIndexByte(action, '.')+1:]
}
