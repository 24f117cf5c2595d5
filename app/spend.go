package app

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/server"
	"github.com/tollgate-llm/tollgate/store"
)

// spendDeps are the server's spend collaborators: the reports, read from the store in
// the billing time zone, and what keys have spent, read from the budget ledger.
func (a *App) spendDeps() server.SpendDeps {
	loc := a.ledger.Location()
	return server.SpendDeps{Reports: billing.NewReports(a.Store, loc, nil),
		Spend: &keySpend{ledger: a.ledger, spend: a.Store, budgets: a.accounts.Budgets}}
}

// keySpend answers what a key has spent (GET /v1/key) and what is left of the budgets
// above it (minting). A budget's state comes from the ledger's counters, so that it
// counts spend still on its way to the database and what requests in flight hold; a
// key's lifetime spend comes from the daily rollups, which lag the requests by the
// spend writer's flush interval.
type keySpend struct {
	ledger  *billing.Ledger
	spend   billing.SpendSource
	budgets func(p *keys.Principal) []billing.Budget
}

var _ server.SpendReader = (*keySpend)(nil)

// KeySpend returns the key's spend since it was made, its children's included, and its
// own budget's state in the current period (nil without one).
func (k *keySpend) KeySpend(ctx context.Context, p *keys.Principal) (billing.Money, *billing.BudgetView, error) {
	n, err := k.spend.SpentSince(ctx, store.BudgetScopeKey, p.ID, time.Unix(0, 0))
	if err != nil {
		return 0, nil, spendUnavailable(err)
	}
	b, ok, err := billing.BudgetFrom(billing.ScopeKey, p.ID, p.Settings.Budget)
	if err != nil || !ok {
		return billing.Money(n), nil, nil
	}
	v, err := k.ledger.View(ctx, b)
	if err != nil {
		return 0, nil, spendUnavailable(err)
	}
	return billing.Money(n), &v, nil
}

// Remaining returns the least that is left of the budgets above the key, and false
// when none bounds it.
func (k *keySpend) Remaining(ctx context.Context, p *keys.Principal) (billing.Money, bool, error) {
	var least billing.Money
	found := false
	for _, b := range k.budgets(p) {
		v, err := k.ledger.View(ctx, b)
		if err != nil {
			return 0, false, spendUnavailable(err)
		}
		if !found || v.RemainingUSD < least {
			least, found = v.RemainingUSD, true
		}
	}
	return least, found, nil
}

// spendUnavailable is the retryable 503 of spend that cannot be read right now; a
// ledger refusal that is already an API error passes through.
func spendUnavailable(err error) error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return err
	}
	e := apierr.New(apierr.KindGateway, http.StatusServiceUnavailable, "service_unavailable", "budget_unavailable",
		"The spend of this key cannot be read right now; try again shortly.").WithCause(err)
	e.Retryable = true
	return e
}
