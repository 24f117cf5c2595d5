package store

import (
	"context"
	"fmt"
	"time"
)

// Budget scopes of SpentSince and ClaimBudgetAlert.
const (
	BudgetScopeKey     = "key"
	BudgetScopeProject = "project"
)

// SpentSince returns what scope's subject (a key id or a project name) has spent in
// nano-USD from since on, read from spend_daily: since must be the start of a local day
// in the time zone the rows were written with (every budget period starts at one). A
// key's spend includes that of its ephemeral child keys. It reads at most one rollup
// row per day and model, never the spend log.
func (db *DB) SpentSince(ctx context.Context, scope, subject string, since time.Time) (int64, error) {
	from, err := toNanos(since)
	if err != nil {
		return 0, fmt.Errorf("reading spend: %w", err)
	}
	var q string
	var args []any
	switch scope {
	case BudgetScopeKey:
		q = `SELECT CAST(COALESCE((SELECT SUM(cost_nano) FROM spend_daily WHERE key_id = ? AND day >= ?), 0)
			+ COALESCE((SELECT SUM(cost_nano) FROM spend_daily WHERE parent_key_id = ? AND day >= ?), 0) AS BIGINT)`
		args = []any{subject, from, subject, from}
	case BudgetScopeProject:
		q = `SELECT CAST(COALESCE(SUM(cost_nano), 0) AS BIGINT) FROM spend_daily WHERE project = ? AND day >= ?`
		args = []any{subject, from}
	default:
		return 0, fmt.Errorf("reading spend: unknown budget scope %q", scope)
	}
	var spent int64
	if err := db.db.QueryRowContext(ctx, db.Rebind(q), args...).Scan(&spent); err != nil {
		return 0, fmt.Errorf("reading spend of %s %s: %w", scope, subject, err)
	}
	return spent, nil
}

// ClaimBudgetAlert records that the alert for threshold (a percentage) of scope's
// subject's budget period starting at periodStart is being sent. It returns true for
// the one caller, across replicas, that made the claim, and false for every later one.
func (db *DB) ClaimBudgetAlert(ctx context.Context, scope, subject string, periodStart time.Time, threshold int) (bool, error) {
	start, err := toNanos(periodStart)
	if err != nil {
		return false, fmt.Errorf("claiming budget alert: %w", err)
	}
	res, err := db.db.ExecContext(ctx, db.Rebind(`INSERT INTO budget_alerts
		(scope, subject, period_start, threshold, claimed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (scope, subject, period_start, threshold) DO NOTHING`),
		scope, subject, start, threshold, db.now().UTC().UnixNano())
	if err != nil {
		return false, fmt.Errorf("claiming budget alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claiming budget alert: %w", err)
	}
	return n == 1, nil
}

// Tables that DeleteSpendBefore prunes.
const (
	PruneSpendLog     = "spend_log"
	PruneSpendHourly  = "spend_hourly"
	PruneBudgetAlerts = "budget_alerts"
)

// DeleteSpendBefore deletes at most limit rows older than before from table (one of
// the Prune* names) and returns how many went. Callers loop until it returns fewer than
// limit, pausing between batches, so that retention never holds long locks or bloats
// one huge transaction. spend_daily is never pruned: budgets with a total period read it.
func (db *DB) DeleteSpendBefore(ctx context.Context, table string, before time.Time, limit int) (int64, error) {
	var q string
	switch table {
	case PruneSpendLog:
		q = `DELETE FROM spend_log WHERE id IN (SELECT id FROM spend_log WHERE at < ? ORDER BY at LIMIT ?)`
	case PruneSpendHourly:
		q = `DELETE FROM spend_hourly WHERE (hour, key_id, project, model, provider) IN
			(SELECT hour, key_id, project, model, provider FROM spend_hourly WHERE hour < ? ORDER BY hour LIMIT ?)`
	case PruneBudgetAlerts:
		q = `DELETE FROM budget_alerts WHERE (scope, subject, period_start, threshold) IN
			(SELECT scope, subject, period_start, threshold FROM budget_alerts WHERE claimed_at < ? ORDER BY claimed_at LIMIT ?)`
	default:
		return 0, fmt.Errorf("pruning: unknown table %q", table)
	}
	cut, err := toNanos(before)
	if err != nil {
		return 0, fmt.Errorf("pruning %s: %w", table, err)
	}
	res, err := db.db.ExecContext(ctx, db.Rebind(q), cut, limit)
	if err != nil {
		return 0, fmt.Errorf("pruning %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("pruning %s: %w", table, err)
	}
	return n, nil
}
