package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/keys"
)

// SpendReports answers the spend and logs reports; *billing.Reports is one.
type SpendReports interface {
	ParseSpendFilter(q url.Values) (billing.SpendFilter, error)
	Spend(ctx context.Context, f billing.SpendFilter) (billing.SpendReport, error)
	ParseLogFilter(q url.Values) (billing.LogFilter, error)
	Logs(ctx context.Context, f billing.LogFilter) (billing.LogPage, error)
}

var _ SpendReports = (*billing.Reports)(nil)

// SpendReader tells a key what it has spent and what is left of its budgets.
type SpendReader interface {
	// KeySpend is the key's recorded spend since it was made (its children's included)
	// and the state of its own budget in the current period; nil without a budget.
	KeySpend(ctx context.Context, p *keys.Principal) (spent billing.Money, budget *billing.BudgetView, err error)
	// Remaining is the least that is left of the budgets above the key (its own, its
	// parent's, its project's), and false when no budget bounds it.
	Remaining(ctx context.Context, p *keys.Principal) (billing.Money, bool, error)
}

// SpendDeps serve the spend reports (admin) and the spend of GET /v1/key. Either may
// be nil: without Reports there are no report routes; without Spend GET /v1/key shows
// no spend and minting checks budgets against their limits.
type SpendDeps struct {
	Reports SpendReports
	Spend   SpendReader
}

// spendRoutes registers GET /spend and GET /logs; viewer tokens may read them. Both
// answer JSON, or CSV with ?format=csv. A CSV page of logs carries its next cursor in
// the x-next-cursor header.
func (s *Server) spendRoutes(adm *gin.RouterGroup) {
	r := s.Reports
	if r == nil {
		return
	}
	adm.GET("/spend", func(c *gin.Context) {
		rep, csv, err := readReport(c, r.ParseSpendFilter, r.Spend)
		answerReport(c, err, csv, rep, "spend.csv", func(b *bytes.Buffer) error { return billing.WriteSpendCSV(b, rep) })
	})
	adm.GET("/logs", func(c *gin.Context) {
		page, csv, err := readReport(c, r.ParseLogFilter, r.Logs)
		if csv && err == nil && page.NextCursor != "" {
			c.Header("x-next-cursor", page.NextCursor)
		}
		answerReport(c, err, csv, page, "logs.csv", func(b *bytes.Buffer) error { return billing.WriteLogsCSV(b, page.Data) })
	})
}

// readReport parses the query's filter and runs the report, and says whether the
// answer is wanted as CSV.
func readReport[F, R any](c *gin.Context, parse func(url.Values) (F, error),
	run func(context.Context, F) (R, error)) (rep R, csv bool, err error) {
	if csv, err = wantCSV(c); err != nil {
		return rep, false, err
	}
	f, err := parse(c.Request.URL.Query())
	if err != nil {
		return rep, csv, err
	}
	rep, err = run(c.Request.Context(), f)
	return rep, csv, err
}

// wantCSV reads ?format=: json (the default) or csv.
func wantCSV(c *gin.Context) (bool, error) {
	switch c.Query("format") {
	case "", "json":
		return false, nil
	case "csv":
		return true, nil
	}
	return false, apierr.InvalidValue("format", "format must be json or csv")
}

// answerReport answers v as JSON, or as a CSV attachment written by writeCSV.
func answerReport(c *gin.Context, err error, csv bool, v any, filename string, writeCSV func(*bytes.Buffer) error) {
	if err != nil || !csv {
		answer(c, http.StatusOK, v, err)
		return
	}
	var b bytes.Buffer
	if err := writeCSV(&b); err != nil {
		writeError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// selfView is GET /v1/key's answer: the key's settings with its spend and budget state
// read from billing.
func (s *Server) selfView(ctx context.Context, p *keys.Principal) (keys.SelfView, error) {
	v := keys.Self(p, s.clock())
	if s.Spend == nil {
		return v, nil
	}
	spent, b, err := s.Spend.KeySpend(ctx, p)
	if err != nil {
		return v, err
	}
	v.SpendUSD = json.Number(spent.Decimal())
	if b != nil {
		v.Budget = &keys.BudgetView{LimitUSD: json.Number(b.LimitUSD.Decimal()), Period: string(b.Period),
			SpentUSD: json.Number(b.SpentUSD.Decimal()), RemainingUSD: json.Number(b.RemainingUSD.Decimal()),
			ResetsAt: b.ResetsAt}
	}
	return v, nil
}

// withRemaining sets what is left of the parent's budgets on a mint request, so that
// the child's max_cost_usd is checked against it.
func (s *Server) withRemaining(ctx context.Context, p *keys.Principal, req *keys.MintRequest) error {
	if s.Spend == nil || req.MaxCostUSD == "" {
		return nil
	}
	left, ok, err := s.Spend.Remaining(ctx, p)
	if err != nil || !ok {
		return err
	}
	n := int64(left)
	req.ParentRemaining = &n
	return nil
}
