package app

import (
	"context"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/server"
)

// TopicModels is the invalidation topic of models defined through the admin API.
const TopicModels = "models"

// modelService is the model admin service. Without an audit log its changes fail
// closed.
func (a *App) modelService() *admin.Models {
	m := &admin.Models{Store: a.Store, Config: a.cfg, Providers: a.providerNames, Changed: a.modelsChanged}
	if l := a.auditor(); l != nil {
		m.Audit = l
	}
	return m
}

// modelDeps are the server's model admin collaborators.
func (a *App) modelDeps() server.ModelDeps { return server.ModelDeps{Models: a.routing.models} }

// providerNames returns the providers a model's target may name: the config's and the
// stored ones.
func (a *App) providerNames(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	for _, p := range a.cfg.Providers {
		out[p.Name] = true
	}
	stored, err := a.Store.ListProviders(ctx)
	for _, p := range stored {
		out[p.Name] = true
	}
	return out, err
}

// modelsChanged tells every replica, this one first, that a model changed: the bus
// delivers to this process's subscriber (onModelChange) before Publish returns.
func (a *App) modelsChanged(ctx context.Context, name string) {
	if err := a.invalidationBus().Publish(ctx, TopicModels, name); err != nil {
		a.log.Warn("could not tell other replicas about a model change", "model", name, "error", err)
		a.reloadRoutes(ctx)
	}
}

// onModelChange rebuilds the routes when a model changed here or on another replica.
func (a *App) onModelChange(string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.reloadRoutes(ctx)
}

// buildRoutes turns the config's models and the stored ones into routes over the
// current deployments. A stored model never shadows a config one; a target whose
// provider is gone is left out (a model left without targets answers 503).
func (a *App) buildRoutes(ctx context.Context) ([]*router.Route, error) {
	deps, err := a.deployments(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := a.routing.models.Stored(ctx)
	if err != nil {
		return nil, err
	}
	routes := make([]*router.Route, 0, len(a.cfg.Models)+len(stored))
	seen := map[string]bool{}
	book := priceBook{}
	for _, m := range a.cfg.Models {
		seen[m.Name] = true
		routes = append(routes, a.route(admin.ConfigSpec(m), deps, "config", startedAt, book))
	}
	for _, m := range stored {
		if seen[m.Spec.Name] {
			a.log.Warn("a stored model has the name of a config model and is ignored", "model", m.Spec.Name)
			continue
		}
		routes = append(routes, a.route(m.Spec, deps, "api", m.CreatedAt, book))
	}
	a.routing.book.Store(&book)
	return routes, nil
}

// route builds one route from a spec.
func (a *App) route(spec admin.ModelSpec, deps map[string]*router.Deployment, source string, created time.Time, book priceBook) *router.Route {
	rt := &router.Route{Name: spec.Name, Strategy: spec.Strategy, Fallbacks: spec.Fallbacks,
		Timeout: spec.TimeoutDuration(), Retries: *spec.Retries, Source: source, Created: created}
	for _, t := range spec.Targets {
		d := deps[t.Provider]
		if d == nil {
			a.log.Warn("a model target names an unknown provider and is left out", "model", spec.Name, "provider", t.Provider)
			continue
		}
		price, known := a.price(d.Type, t.Model, spec.Overrides(t))
		book.add(spec.Name, d.Name, t.Model, price)
		tg := &router.Target{Deployment: d, Model: t.Model, Weight: t.Weight, Priority: t.Priority}
		if known {
			tg.Price = &router.Price{InputPerMTok: int64(price.Input), OutputPerMTok: int64(price.Output)}
		}
		rt.Targets = append(rt.Targets, tg)
	}
	return rt
}

// price is a target's price: the catalog's after the model's and the target's
// overrides. lowest_cost ranks targets by it and billing charges it; known is false
// when neither prices the model (billing then records the usage at $0, flagged).
func (a *App) price(providerType, model string, overrides []*configs.Pricing) (billing.Price, bool) {
	p, err := a.routing.prices.Price(providerType, model, overrides...)
	if err != nil {
		return billing.Price{}, false
	}
	return p, p.Known
}
