package billing

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// Pruner deletes old spend rows in batches; *store.DB is one.
type Pruner interface {
	DeleteSpendBefore(ctx context.Context, table string, before time.Time, limit int) (int64, error)
}

var _ Pruner = (*store.DB)(nil)

// RetentionOptions configures Prune and RunRetention. An age of zero keeps rows forever.
// The daily rollups are always kept: reports over old months and total budgets read
// them, and they hold no per-request data.
type RetentionOptions struct {
	Store Pruner
	// LogAge is how long spend log rows are kept.
	LogAge time.Duration
	// HourlyAge is how long hourly rollups are kept.
	HourlyAge time.Duration
	// AlertAge is how long alert claims are kept (400 days: longer than any period but
	// a total budget's, whose claims then alert again after that long).
	AlertAge time.Duration
	// BatchSize is the most rows one DELETE removes (1000); Pause separates batches
	// (100ms) so that retention never competes with the request path for long.
	BatchSize int
	Pause     time.Duration
	// Interval is how often RunRetention prunes (1h).
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

func (o *RetentionOptions) setDefaults() {
	if o.AlertAge <= 0 {
		o.AlertAge = 400 * 24 * time.Hour
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Pause <= 0 {
		o.Pause = 100 * time.Millisecond
	}
	if o.Interval <= 0 {
		o.Interval = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Prune deletes what is older than the configured ages, batch by batch, and returns
// the rows deleted per table.
func Prune(ctx context.Context, o RetentionOptions) (map[string]int64, error) {
	o.setDefaults()
	now := o.Now()
	deleted := map[string]int64{}
	for _, p := range []struct {
		table string
		age   time.Duration
	}{
		{store.PruneSpendLog, o.LogAge}, {store.PruneSpendHourly, o.HourlyAge}, {store.PruneBudgetAlerts, o.AlertAge},
	} {
		if p.age <= 0 {
			continue
		}
		for {
			n, err := o.Store.DeleteSpendBefore(ctx, p.table, now.Add(-p.age), o.BatchSize)
			deleted[p.table] += n
			if err != nil {
				return deleted, fmt.Errorf("retention: %w", err)
			}
			if n < int64(o.BatchSize) {
				break
			}
			select {
			case <-ctx.Done():
				return deleted, ctx.Err()
			case <-time.After(o.Pause):
			}
		}
	}
	return deleted, nil
}

// RunRetention prunes now and every Interval until ctx is done, logging what it did.
func RunRetention(ctx context.Context, o RetentionOptions) error {
	o.setDefaults()
	ticker := time.NewTicker(o.Interval)
	defer ticker.Stop()
	for {
		deleted, err := Prune(ctx, o)
		if err != nil && ctx.Err() == nil {
			o.Logger.Warn("spend retention", "error", err)
		}
		if n := deleted[store.PruneSpendLog]; n > 0 {
			o.Logger.Info("spend retention", "spend_log_deleted", n, "hourly_deleted", deleted[store.PruneSpendHourly])
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
