package billing

import (
	"context"
	"encoding/csv"
	"io"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

// ReportStore answers reports; *store.DB is one.
type ReportStore interface {
	SpendReport(ctx context.Context, q store.SpendQuery) ([]store.SpendGroup, error)
	ListSpendLog(ctx context.Context, q store.SpendLogQuery) ([]store.SpendRow, error)
}

var _ ReportStore = (*store.DB)(nil)

// Reports answers GET /admin/v1/spend and /admin/v1/logs (and the CLI's spend and
// logs commands) from the store, with no HTTP framework in sight.
type Reports struct {
	db  ReportStore
	loc *time.Location
	now func() time.Time
}

// NewReports returns reports over db in loc, the time zone the spend was written with
// (the budget time zone): dates in filters and day groups are local to it.
func NewReports(db ReportStore, loc *time.Location, now func() time.Time) *Reports {
	if loc == nil {
		loc = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return &Reports{db: db, loc: loc, now: now}
}

// groupings are the accepted group_by values.
var groupings = []string{store.GroupKey, store.GroupProject, store.GroupModel, store.GroupProvider,
	store.GroupDay, store.GroupHour}

// SpendFilter is a parsed spend query.
type SpendFilter struct {
	From, To                        time.Time
	KeyID, Project, Model, Provider string
	GroupBy                         string
}

// SpendRow is one group of a spend report, as the API shows it.
type SpendRow struct {
	Group            string `json:"group"`
	Requests         int64  `json:"requests"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	CachedTokens     int64  `json:"cached_tokens"`
	CostUSD          Money  `json:"cost_usd"`
}

// SpendReport is the answer of GET /admin/v1/spend.
type SpendReport struct {
	Data  []SpendRow `json:"data"`
	Total SpendRow   `json:"total"`
}

// ParseSpendFilter reads from, to, key_id, project, model, provider and group_by. from
// and to are RFC 3339 times or YYYY-MM-DD dates (local midnight; a date as `to` means
// through the end of that day). Without from the report starts at the beginning of the
// current month, without to it ends now; group_by defaults to model. Bad values are
// *apierr.Error 400s naming the parameter.
func (r *Reports) ParseSpendFilter(q url.Values) (SpendFilter, error) {
	f := SpendFilter{KeyID: q.Get("key_id"), Project: q.Get("project"), Model: q.Get("model"),
		Provider: q.Get("provider"), GroupBy: q.Get("group_by")}
	if f.GroupBy == "" {
		f.GroupBy = store.GroupModel
	}
	if !slices.Contains(groupings, f.GroupBy) {
		return f, apierr.InvalidValue("group_by", "group_by must be one of key, project, model, provider, day, hour")
	}
	var err error
	now := r.now()
	start, _ := PeriodMonth.Window(now, r.loc)
	if f.From, err = r.parseTime("from", q.Get("from"), start, false); err != nil {
		return f, err
	}
	if f.To, err = r.parseTime("to", q.Get("to"), now, true); err != nil {
		return f, err
	}
	if !f.From.Before(f.To) {
		return f, apierr.InvalidValue("to", "to must be after from")
	}
	return f, nil
}

// parseTime reads an RFC 3339 time or a local date; a date used as an end means the
// end of that day.
func (r *Reports) parseTime(param, s string, def time.Time, end bool) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, r.loc)
	if err != nil {
		return time.Time{}, apierr.InvalidValue(param, param+" must be an RFC 3339 time or a YYYY-MM-DD date")
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// Spend answers a spend report from the rollup tables.
func (r *Reports) Spend(ctx context.Context, f SpendFilter) (SpendReport, error) {
	groups, err := r.db.SpendReport(ctx, store.SpendQuery{From: f.From, To: f.To, KeyID: f.KeyID,
		Project: f.Project, Model: f.Model, Provider: f.Provider, GroupBy: f.GroupBy, Location: r.loc})
	if err != nil {
		return SpendReport{}, err
	}
	rep := SpendReport{Data: make([]SpendRow, 0, len(groups)), Total: SpendRow{Group: "total"}}
	for _, g := range groups {
		row := SpendRow{Group: g.Group, Requests: g.Requests, PromptTokens: g.PromptTokens,
			CompletionTokens: g.CompletionTokens, CachedTokens: g.CachedTokens, CostUSD: Money(g.CostNano)}
		rep.Data = append(rep.Data, row)
		rep.Total.Requests += row.Requests
		rep.Total.PromptTokens += row.PromptTokens
		rep.Total.CompletionTokens += row.CompletionTokens
		rep.Total.CachedTokens += row.CachedTokens
		rep.Total.CostUSD += row.CostUSD
	}
	return rep, nil
}

// WriteSpendCSV writes a report as CSV: a header, one line per group, and the total.
// Costs are exact decimals in USD.
func WriteSpendCSV(w io.Writer, rep SpendReport) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd"})
	for _, row := range append(slices.Clone(rep.Data), rep.Total) {
		cw.Write([]string{csvSafe(row.Group), itoa(row.Requests), itoa(row.PromptTokens),
			itoa(row.CompletionTokens), itoa(row.CachedTokens), row.CostUSD.Decimal()})
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// csvSafe defuses a cell that a spreadsheet would run as a formula: names come from
// clients (user agents, project names) and CSV is opened in spreadsheets.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
