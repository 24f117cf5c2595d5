package app

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/quota"
	"github.com/tollgate-llm/tollgate/server"
)

// openAccounts builds rate limiting (in-process, or shared through Redis) and billing
// (the budget ledger, the batched spend writer, budget alerts and retention), and the
// accounts that tell them which limits, budgets and prices apply to a request.
func (a *App) openAccounts(ctx context.Context) (server.AccountDeps, error) {
	limiter, err := a.openLimiter()
	if err != nil {
		return server.AccountDeps{}, err
	}
	biller, err := a.openBilling()
	if err != nil {
		return server.AccountDeps{}, err
	}
	acc := &accounts{a: a, projects: newProjectCache(a.Store, a.log)}
	a.invalidationBus().Subscribe(admin.TopicProjects, acc.projects.forget)
	a.accounts = acc
	return server.AccountDeps{Limiter: limiter, Biller: biller, Accounts: acc}, nil
}

// openLimiter returns the Redis limiter when Redis is configured, else the in-process
// one. The Redis limiter's background loop (slot keep-alive, recovery probes) is owned
// here and stops on Close.
func (a *App) openLimiter() (server.Limiter, error) {
	client, err := a.redisClient()
	if err != nil || client == nil {
		return quota.NewLocal(nil), err
	}
	policy := quota.FailOpen
	if a.cfg.Limits.RedisFailure == "fail_closed" {
		policy = quota.FailClosed
	}
	lim, err := quota.NewRedis(client, quota.RedisOptions{Prefix: "tollgate:rl", Policy: policy, Logger: a.log,
		Registerer: a.Metrics.Registry(), Timeout: a.cfg.Limits.RedisTimeout.Std()})
	if err != nil {
		return nil, err
	}
	a.limiter = lim
	a.background(func(ctx context.Context) { _ = lim.Run(ctx) })
	return lim, nil
}

// openBilling builds the billing service; its writer is closed, flushing every queued
// spend row, when the app closes (after the server has drained).
func (a *App) openBilling() (*billing.Service, error) {
	loc, err := a.cfg.Billing.Location()
	if err != nil {
		return nil, fmt.Errorf("billing.time_zone: %w", err)
	}
	client, err := a.redisClient()
	if err != nil {
		return nil, err
	}
	lopts := billing.LedgerOptions{Spend: a.Store, Location: loc, RedisPrefix: a.cfg.Billing.RedisPrefix}
	if client != nil {
		lopts.Redis = client
	}
	ledger, err := billing.NewLedger(lopts)
	if err != nil {
		return nil, err
	}
	a.ledger = ledger
	writer, err := billing.NewWriter(billing.WriterOptions{Store: a.Store, Location: loc,
		SpillDir: a.cfg.Billing.SpillDir, Logger: a.log})
	if err != nil {
		return nil, err
	}
	a.Spend = writer
	a.background(func(ctx context.Context) { _ = writer.Run(ctx) })
	a.closer = append(a.closer, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout.Std())
		defer cancel()
		return writer.Close(ctx)
	})
	alerts, err := a.openAlerts()
	if err != nil {
		return nil, err
	}
	if age := a.cfg.Billing.Retention.Std(); age > 0 {
		a.background(func(ctx context.Context) {
			billing.RunRetention(ctx, billing.RetentionOptions{Store: a.Store, LogAge: age, Logger: a.log})
		})
	}
	a.background(func(context.Context) {
		if err := billing.WarmTokenizers(a.cfg.Models...); err != nil {
			a.log.Warn("token counting falls back to an approximation", "error", err)
		}
	})
	return billing.NewService(billing.ServiceOptions{Ledger: ledger, Sink: spendTee{w: writer, m: a.Metrics},
		Alerts: alerts, Logger: a.log})
}

// openAlerts starts the budget alerts: a log line and an audit event at 50, 80 and
// 100% of a budget, and signed webhooks when configured.
func (a *App) openAlerts() (*billing.Alerter, error) {
	opts := billing.AlertOptions{URLs: a.cfg.Billing.AlertWebhooks, Claims: a.Store, Audit: a.auditor(), Logger: a.log}
	if !a.cfg.Billing.AlertSecret.IsZero() {
		secret, err := a.cfg.Billing.AlertSecret.ResolveWith(a.getenv)
		if err != nil {
			return nil, fmt.Errorf("billing.alert_secret: %w", err)
		}
		opts.Secret = []byte(secret.Reveal())
	}
	alerts, err := billing.NewAlerter(opts)
	if err != nil {
		return nil, err
	}
	a.background(func(ctx context.Context) { _ = alerts.Run(ctx) })
	return alerts, nil
}

// background runs fn until the app closes; Close waits for it to return.
func (a *App) background(fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("background task panicked", "panic", fmt.Sprint(p))
			}
		}()
		fn(ctx)
	}()
	a.closer = append(a.closer, func() error {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			a.log.Warn("a background task did not stop within 10s")
		}
		return nil
	})
}
