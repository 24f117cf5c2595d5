package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/detect"
	"github.com/tollgate-llm/tollgate/export"
	"github.com/tollgate-llm/tollgate/server"
)

// openDetect starts the anomaly detectors unless the config turns them off; nil then.
func (a *App) openDetect() (*detect.Service, error) {
	if !a.cfg.Detect.On() {
		return nil, nil
	}
	opts := detect.ServiceOptions{Store: a.Store, Keys: keyPolicy{a}, Logger: a.log}
	if a.audit != nil {
		opts.Audit = a.audit
	}
	if hooks, err := a.detectWebhooks(); err != nil {
		return nil, err
	} else if len(hooks) > 0 {
		opts.Notify = hooks
	}
	svc, err := detect.NewService(opts)
	if err != nil {
		return nil, err
	}
	a.background(func(ctx context.Context) { _ = svc.Run(ctx) })
	a.Metrics.AddQueue("detect", svc.Depth)
	return svc, nil
}

// detectWebhooks are the configured finding webhooks, signed with the detect secret.
func (a *App) detectWebhooks() (webhooks, error) {
	c := a.cfg.Detect
	if len(c.Webhooks) == 0 {
		return nil, nil
	}
	secret, err := c.WebhookSecret.ResolveWith(a.getenv)
	if err != nil {
		return nil, fmt.Errorf("detect.webhook_secret: %w", err)
	}
	var out webhooks
	for _, u := range c.Webhooks {
		w, err := export.NewWebhook(export.WebhookOptions{URL: u, Secret: secret, Event: detect.EventAnomaly,
			ContentType: "application/json", Attempts: 3})
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// webhooks posts to each webhook in turn.
type webhooks []*export.Webhook

// Post delivers body to every webhook; it fails if any does.
func (ws webhooks) Post(ctx context.Context, delivery string, body []byte) error {
	var errs []error
	for _, w := range ws {
		errs = append(errs, w.Post(ctx, delivery, body))
	}
	return errors.Join(errs...)
}

// keyPolicy reads keys' auto_suspend setting and disables keys through the admin key
// service, which audits it (key.disable) and tells every replica.
type keyPolicy struct{ a *App }

// AutoSuspend reports the key's settings.auto_suspend.
func (p keyPolicy) AutoSuspend(ctx context.Context, id string) (bool, error) {
	v, err := p.a.lifecycle.keys.Get(ctx, id)
	return err == nil && v.AutoSuspend, err
}

// Suspend disables the key, as the detector.
func (p keyPolicy) Suspend(ctx context.Context, id, reason string) error {
	_, err := p.a.lifecycle.keys.SetStatus(ctx, audit.Actor{ID: "system", Name: "detector"}, id, false)
	return err
}

// anomalies is where GET /admin/v1/anomalies reads findings: the store, when the
// detectors run.
func (a *App) anomalies() server.AnomalyLister {
	if !a.cfg.Detect.On() {
		return nil
	}
	return a.Store
}
