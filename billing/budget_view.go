package billing

import (
	"context"
	"time"
)

// BudgetView is a budget as GET /v1/key shows it.
type BudgetView struct {
	LimitUSD     Money  `json:"limit_usd"`
	Period       Period `json:"period"`
	SpentUSD     Money  `json:"spent_usd"`
	RemainingUSD Money  `json:"remaining_usd"`
	// ResetsAt is when the next period starts; nil for a total budget.
	ResetsAt *time.Time `json:"resets_at"`
}

// View returns b's state for display: spent is settled spend in the current period,
// remaining what is left of the limit after spent and what requests in flight hold.
func (l *Ledger) View(ctx context.Context, b Budget) (BudgetView, error) {
	st, err := l.State(ctx, b)
	if err != nil {
		return BudgetView{}, err
	}
	v := BudgetView{LimitUSD: b.Limit, Period: b.Period, SpentUSD: st.Spent,
		RemainingUSD: max(b.Limit-st.Spent-st.Reserved, 0)}
	if b.Period != PeriodTotal {
		end := st.End
		v.ResetsAt = &end
	}
	return v, nil
}
