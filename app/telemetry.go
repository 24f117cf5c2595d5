package app

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/detect"
	"github.com/tollgate-llm/tollgate/export"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// openTelemetry builds tracing (from the OTEL_* variables), the request log export
// and the anomaly detectors, and wires them together: the server's requests and the
// router's attempts to the observer, each finished request to the export and the
// detectors, audit events to the export, and the breakers and the spend, export and
// detector queues to the metrics. It returns the server's observer.
func (a *App) openTelemetry(ctx context.Context, o Options) (*telemetry.Observer, error) {
	tr, err := telemetry.NewTracing(ctx, telemetry.TracingOptions{Getenv: a.getenv, Exporter: o.TraceExporter})
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	a.closer = append(a.closer, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return tr.Shutdown(sctx)
	})
	exp, err := a.openExport()
	if err != nil {
		return nil, err
	}
	det, err := a.openDetect()
	if err != nil {
		return nil, err
	}
	obs := telemetry.NewObserver(telemetry.ObserverOptions{Tracing: tr, Metrics: a.Metrics,
		Finished: func(f telemetry.Finished) {
			if exp != nil && exportable(f) {
				exp.Request(f)
			}
			if o, ok := observation(f); ok && det != nil {
				det.Observe(o)
			}
		}})
	if tr.On() {
		a.Router.SetObserver(attemptObserver{obs})
	}
	a.watchMetrics()
	return obs, nil
}

// exportable reports whether a request belongs in the request log: every client API
// call, and every refused key. Health checks, scrapes and admin calls (audited) do not.
func exportable(f telemetry.Finished) bool {
	return f.AuthFailed || strings.HasPrefix(f.Route, "/v1/")
}

// observation is what the detectors see of an authenticated inference request.
func observation(f telemetry.Finished) (detect.Observation, bool) {
	if f.KeyID == "" || f.Endpoint == "" {
		return detect.Observation{}, false
	}
	ip, _ := netip.ParseAddr(f.ClientIP)
	o := detect.Observation{Time: f.Start, KeyID: f.KeyID, Project: f.Project, Model: f.Model, SourceIP: ip.Unmap(),
		Tokens: f.PromptTokens + f.CompletionTokens, CostNano: f.CostNano,
		Error: f.Status >= 400 && f.Status < 500 && f.Status != 499}
	if r := f.Spend; r != nil {
		o.Tokens, o.CostNano = r.PromptTokens+r.CompletionTokens, r.CostNano
	}
	return o, true
}

// openExport starts the request log export when a sink is configured; nil otherwise.
func (a *App) openExport() (*export.Exporter, error) {
	c := a.cfg.Export
	sinks := map[string]export.Sink{}
	if c.Stdout {
		sinks["stdout"] = export.NewWriterSink(os.Stdout)
	}
	if c.File.Path != "" {
		s, err := export.NewFileSink(export.FileOptions{Path: c.File.Path, MaxSizeMB: c.File.MaxSizeMB,
			MaxFiles: c.File.MaxFiles, MaxAgeDays: c.File.MaxAgeDays, Compress: c.File.Compress})
		if err != nil {
			return nil, err
		}
		sinks["file"] = s
	}
	if c.Webhook.URL != "" {
		s, err := a.exportWebhook()
		if err != nil {
			return nil, err
		}
		sinks["webhook"] = s
	}
	if len(sinks) == 0 {
		return nil, nil
	}
	exp, err := export.New(export.Options{Format: c.Format, Sinks: sinks, QueueSize: c.QueueSize, Logger: a.log})
	if err != nil {
		return nil, err
	}
	a.background(func(ctx context.Context) { _ = exp.Run(ctx) })
	for name := range sinks {
		a.Metrics.AddQueue("export_"+name, func() int { return exp.Depths()[name] })
	}
	if c.AuditExported() && a.audit != nil {
		a.audit.Subscribe(exp.Audit)
	}
	return exp, nil
}

func (a *App) exportWebhook() (export.Sink, error) {
	c := a.cfg.Export.Webhook
	o := export.WebhookOptions{URL: c.URL, Headers: map[string]schema.Secret{}}
	var err error
	if !c.Secret.IsZero() {
		if o.Secret, err = c.Secret.ResolveWith(a.getenv); err != nil {
			return nil, fmt.Errorf("export.webhook.secret: %w", err)
		}
	}
	for name, ref := range c.Headers {
		if o.Headers[name], err = ref.ResolveWith(a.getenv); err != nil {
			return nil, fmt.Errorf("export.webhook.headers.%s: %w", name, err)
		}
	}
	return export.NewWebhookSink(o)
}

// watchMetrics reports the routing health and the spend writer's queue at every scrape,
// and counts only configured models by name.
func (a *App) watchMetrics() {
	m := a.Metrics
	m.SetModels(func(name string) bool { _, ok := a.Router.Lookup(name); return ok })
	m.SetBreakers(func() []telemetry.BreakerSample {
		var out []telemetry.BreakerSample
		for _, rt := range a.Router.Routes() {
			for _, t := range rt.Targets {
				h := t.Health()
				s := telemetry.BreakerSample{Provider: t.Deployment.Name, Model: t.Model, State: h.State, InFlight: h.InFlight}
				for _, k := range h.Keys {
					s.Keys = append(s.Keys, telemetry.KeySample{ID: k.ID, State: k.State})
				}
				out = append(out, s)
			}
		}
		return out
	})
	if a.Spend != nil {
		m.AddQueue("spend", func() int { return a.Spend.Stats().Queued })
	}
}

// attemptObserver adapts the observer to the router's attempt hook.
type attemptObserver struct{ o *telemetry.Observer }

func (ao attemptObserver) AttemptStart(ctx context.Context, a router.AttemptInfo) (context.Context, func(router.AttemptResult)) {
	ctx, end := ao.o.StartAttempt(ctx, telemetry.Attempt{Deployment: a.Deployment, ProviderType: a.ProviderType,
		Model: a.Model, CredentialID: a.CredentialID, Number: a.Attempt})
	return ctx, func(r router.AttemptResult) {
		e := telemetry.AttemptEnd{Outcome: r.Outcome}
		if r.Err != nil {
			e.Status, e.Code = r.Err.Status, r.Err.Code
		}
		end(e)
	}
}

// spendTee hands the spend rows to the writer, the request's own row to its observer
// (the request log carries its exact /logs fields) and every row's cost, failed
// attempts' included, to the metrics.
type spendTee struct {
	w billing.RowSink
	m *telemetry.Metrics
}

// Append passes rows on.
func (t spendTee) Append(ctx context.Context, rows ...store.SpendRow) error {
	for _, r := range rows {
		if r.RecordType == store.SpendRequest {
			telemetry.AttachSpend(ctx, r)
		}
		t.m.Cost(r.Model, r.Provider, r.CostNano)
	}
	return t.w.Append(ctx, rows...)
}
