package billing

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

// Log page sizes.
const (
	DefaultLogLimit = 100
	MaxLogLimit     = 1000
)

// LogFilter is a parsed logs query.
type LogFilter struct {
	From, To time.Time
	KeyID    string
	// StatusMin and StatusMax bound the status; zero means any.
	StatusMin, StatusMax int
	// cursor is where the previous page ended.
	cursorTime time.Time
	cursorID   string
	Limit      int
}

// LogRow is one spend log row as GET /admin/v1/logs shows it: never a prompt, never
// a secret.
type LogRow struct {
	ID               string    `json:"id"`
	Time             time.Time `json:"time"`
	Type             string    `json:"type"`
	RequestID        string    `json:"request_id"`
	Attempt          int       `json:"attempt"`
	KeyID            string    `json:"key_id"`
	Project          string    `json:"project"`
	Endpoint         string    `json:"endpoint"`
	Model            string    `json:"model"`
	Provider         string    `json:"provider"`
	UpstreamModel    string    `json:"upstream_model"`
	Status           int       `json:"status"`
	ErrorCode        string    `json:"error_code,omitempty"`
	Stream           bool      `json:"stream"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CachedTokens     int64     `json:"cached_tokens"`
	CacheWriteTokens int64     `json:"cache_write_tokens"`
	ReasoningTokens  int64     `json:"reasoning_tokens"`
	CostUSD          Money     `json:"cost_usd"`
	UsageSource      string    `json:"usage_source"`
	PriceVersion     string    `json:"price_version"`
	LatencyMS        int64     `json:"latency_ms"`
	TTFTMS           int64     `json:"ttft_ms"`
	Attempts         int       `json:"attempts"`
	SourceIP         string    `json:"source_ip"`
	UserAgent        string    `json:"user_agent"`
}

// LogPage is the answer of GET /admin/v1/logs.
type LogPage struct {
	Data       []LogRow `json:"data"`
	NextCursor string   `json:"next_cursor"`
}

// ParseLogFilter reads from, to, key_id, status ("429", or a class "4xx"), cursor and
// limit (default 100, at most 1000). Bad values are *apierr.Error 400s.
func (r *Reports) ParseLogFilter(q url.Values) (LogFilter, error) {
	f := LogFilter{KeyID: q.Get("key_id"), Limit: DefaultLogLimit}
	var err error
	if f.From, err = r.parseTime("from", q.Get("from"), time.Time{}, false); err != nil {
		return f, err
	}
	if f.To, err = r.parseTime("to", q.Get("to"), time.Time{}, true); err != nil {
		return f, err
	}
	if s := q.Get("status"); s != "" {
		if f.StatusMin, f.StatusMax, err = parseStatus(s); err != nil {
			return f, err
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLogLimit {
			return f, apierr.InvalidValue("limit", "limit must be between 1 and 1000")
		}
		f.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		if f.cursorTime, f.cursorID, err = decodeCursor(c); err != nil {
			return f, err
		}
	}
	return f, nil
}

// parseStatus reads "502" or "5xx".
func parseStatus(s string) (int, int, error) {
	bad := apierr.InvalidValue("status", "status must be an HTTP status like 429 or a class like 5xx")
	if len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5' {
		lo := int(s[0]-'0') * 100
		return lo, lo + 99, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, bad
	}
	return n, n, nil
}

// EncodeCursor and DecodeCursor are the (time, id) paging cursors of the logs, for
// other lists paged the same way (the anomalies).
func EncodeCursor(t time.Time, id string) string { return encodeCursor(t, id) }

// DecodeCursor reads an EncodeCursor cursor; a bad one is a 400 naming cursor.
func DecodeCursor(c string) (time.Time, string, error) { return decodeCursor(c) }

// encodeCursor and decodeCursor make an opaque cursor of a row's time and id.
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixNano(), 10) + ":" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	bad := apierr.InvalidValue("cursor", "cursor is not one this server returned")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	ns, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", bad
	}
	return time.Unix(0, n), id, nil
}

// Logs answers one page of the spend log, newest first.
func (r *Reports) Logs(ctx context.Context, f LogFilter) (LogPage, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxLogLimit {
		limit = DefaultLogLimit
	}
	rows, err := r.db.ListSpendLog(ctx, store.SpendLogQuery{From: f.From, To: f.To, KeyID: f.KeyID,
		StatusMin: f.StatusMin, StatusMax: f.StatusMax, BeforeTime: f.cursorTime, BeforeID: f.cursorID,
		Limit: limit + 1})
	if err != nil {
		return LogPage{}, err
	}
	page := LogPage{Data: make([]LogRow, 0, min(len(rows), limit))}
	for i, row := range rows {
		if i == limit {
			last := rows[limit-1]
			page.NextCursor = encodeCursor(last.Time, last.ID)
			break
		}
		page.Data = append(page.Data, logRow(row))
	}
	return page, nil
}

// LogRowOf converts a stored spend row to its GET /admin/v1/logs shape; the request
// log export writes the same fields.
func LogRowOf(r store.SpendRow) LogRow { return logRow(r) }

// logRow converts a stored row for display.
func logRow(r store.SpendRow) LogRow {
	return LogRow{ID: r.ID, Time: r.Time, Type: r.RecordType, RequestID: r.RequestID, Attempt: r.Attempt,
		KeyID: r.KeyID, Project: r.Project, Endpoint: r.Endpoint, Model: r.Model, Provider: r.Provider,
		UpstreamModel: r.UpstreamModel, Status: r.Status, ErrorCode: r.ErrorCode, Stream: r.Stream,
		PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens, CachedTokens: r.CachedTokens,
		CacheWriteTokens: r.CacheWriteTokens, ReasoningTokens: r.ReasoningTokens, CostUSD: Money(r.CostNano),
		UsageSource: r.UsageSource, PriceVersion: r.PriceVersion, LatencyMS: r.LatencyMS, TTFTMS: r.TTFTMS,
		Attempts: r.Attempts, SourceIP: r.SourceIP, UserAgent: r.UserAgent}
}

// logCSVHeader is the CSV header of WriteLogsCSV.
var logCSVHeader = []string{"id", "time", "type", "request_id", "attempt", "key_id", "project", "endpoint",
	"model", "provider", "upstream_model", "status", "error_code", "stream", "prompt_tokens",
	"completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd",
	"usage_source", "price_version", "latency_ms", "ttft_ms", "attempts", "source_ip", "user_agent"}

// WriteLogsCSV writes log rows as CSV with a header.
func WriteLogsCSV(w io.Writer, rows []LogRow) error {
	cw := csv.NewWriter(w)
	cw.Write(logCSVHeader)
	for _, r := range rows {
		cw.Write([]string{r.ID, r.Time.UTC().Format(time.RFC3339Nano), r.Type, r.RequestID,
			strconv.Itoa(r.Attempt), r.KeyID, csvSafe(r.Project), r.Endpoint, csvSafe(r.Model), csvSafe(r.Provider),
			csvSafe(r.UpstreamModel), strconv.Itoa(r.Status), r.ErrorCode, strconv.FormatBool(r.Stream),
			itoa(r.PromptTokens), itoa(r.CompletionTokens), itoa(r.CachedTokens), itoa(r.CacheWriteTokens),
			itoa(r.ReasoningTokens), r.CostUSD.Decimal(), r.UsageSource, csvSafe(r.PriceVersion),
			itoa(r.LatencyMS), itoa(r.TTFTMS), strconv.Itoa(r.Attempts), csvSafe(r.SourceIP), csvSafe(r.UserAgent)})
	}
	cw.Flush()
	return cw.Error()
}
