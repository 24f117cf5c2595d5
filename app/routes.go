package app

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/registry"
	"github.com/tollgate-llm/tollgate/router"
)

// breakerPrefix starts the Redis keys and channel of shared breaker state.
const breakerPrefix = "tollgate:"

// routing is the app's routing state: the config's deployments, built once, and the
// model service that rebuilding the routes reads.
type routing struct {
	config map[string]*router.Deployment
	models *admin.Models
	// prices is the pricing catalog lowest_cost ranks targets by.
	prices *billing.Catalog
	// book holds the billing price of every route's targets, rebuilt with the routes.
	book atomic.Pointer[priceBook]
	// mu serialises rebuilds, so that an older table never replaces a newer one.
	mu sync.Mutex
}

// openRouter builds the router over the config's and the store's providers and models,
// shares breaker openings through Redis when it is configured, and arranges for the
// routes to be rebuilt whenever a provider or a model changes, here or on another
// replica.
func (a *App) openRouter(ctx context.Context, getenv func(string) string) error {
	deps, err := configDeployments(a.cfg, httpclient.New(httpclient.Options{}), getenv)
	if err != nil {
		return err
	}
	prices, err := billing.DefaultCatalog()
	if err != nil {
		return fmt.Errorf("loading the pricing catalog: %w", err)
	}
	a.routing = &routing{config: deps, models: a.modelService(), prices: prices}
	opts := router.Options{DefaultTimeout: a.cfg.RequestTimeout.Std(), Log: a.log, KeyHealth: a.keyHealth(),
		StreamIdle: a.cfg.Routing.StreamIdleTimeout.Std(), Breaker: breakerSettings(a.cfg.Routing.Breaker)}
	share, err := a.breakerShare()
	if err != nil {
		return err
	}
	if share != nil {
		opts.Share = share
	}
	routes, err := a.buildRoutes(ctx)
	if err != nil {
		return err
	}
	a.Router = router.New(routes, opts)
	a.routing.models.Routes = a.Router
	a.onProvidersChanged = a.reloadRoutes
	a.invalidationBus().Subscribe(TopicModels, a.onModelChange)
	if share != nil {
		a.runShare(share)
	}
	return nil
}

// breakerShare returns the Redis share of breaker openings, nil without Redis.
func (a *App) breakerShare() (*router.RedisShare, error) {
	if a.cfg.RedisURL == "" {
		return nil, nil
	}
	client, err := a.redisClient()
	if err != nil {
		return nil, err
	}
	return router.NewRedisShare(client, breakerPrefix, a.log), nil
}

// runShare runs the share's publisher and subscriber until Close.
func (a *App) runShare(share *router.RedisShare) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		share.Run(ctx, a.Router)
	}()
	a.closer = append(a.closer, func() error { cancel(); <-done; return nil })
}

// reloadRoutes rebuilds the routing table from the config and the store; on failure
// the current table stays.
func (a *App) reloadRoutes(ctx context.Context) {
	a.routing.mu.Lock()
	defer a.routing.mu.Unlock()
	routes, err := a.buildRoutes(ctx)
	if err != nil {
		a.log.Error("rebuilding the routes failed; the current ones stay", "error", err)
		return
	}
	a.Router.Swap(routes)
}

// deployments returns the config's deployments and the stored ones; a stored provider
// never shadows a config one.
func (a *App) deployments(ctx context.Context) (map[string]*router.Deployment, error) {
	stored, err := a.storedDeployments(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading stored providers: %w", err)
	}
	out := make(map[string]*router.Deployment, len(a.routing.config)+len(stored))
	maps.Copy(out, stored)
	maps.Copy(out, a.routing.config)
	return out, nil
}

// configDeployments builds the config's providers. Provider keys are read from their
// env:/file: references here, once, and live only in memory.
func configDeployments(cfg *configs.Config, client *http.Client, getenv func(string) string) (map[string]*router.Deployment, error) {
	deps := make(map[string]*router.Deployment, len(cfg.Providers))
	for i, p := range cfg.Providers {
		prov, err := registry.New(providers.Config{Name: p.Name, Type: p.Type, BaseURL: p.BaseURL,
			APIVersion: p.APIVersion, Region: p.Region, Headers: p.Headers, Client: client})
		if err != nil {
			return nil, err
		}
		d := &router.Deployment{Name: p.Name, Type: p.Type, Provider: prov, Timeout: p.Timeout.Std()}
		for j, k := range p.Keys {
			secret, err := k.Secret.ResolveWith(getenv)
			if err != nil {
				return nil, fmt.Errorf("providers[%d].keys[%d].secret: %w", i, j, err)
			}
			d.Keys = append(d.Keys, router.Credential{ID: fmt.Sprintf("%s#%d", p.Name, j), Label: k.Label,
				Secret: secret, Weight: max(k.Weight, 1)})
		}
		deps[p.Name] = d
	}
	return deps, nil
}

// keyHealth records provider keys the router found rejected.
func (a *App) keyHealth() router.KeyHealth {
	h := &admin.KeyHealth{Store: a.Store, Changed: a.providersChanged, Log: a.log}
	if l := a.auditor(); l != nil {
		h.Audit = l
	}
	return h
}

// startedAt is when config routes count as created, for /v1/models.
var startedAt = time.Now()

// breakerSettings converts the configured breaker tuning; zero fields keep the
// router's defaults.
func breakerSettings(b configs.Breaker) router.BreakerSettings {
	return router.BreakerSettings{ConsecutiveFailures: uint32(b.ConsecutiveFailures), FailureRatio: b.FailureRatio,
		MinRequests: uint32(b.MinRequests), Window: b.Window.Std(), OpenTimeout: b.OpenTimeout.Std(),
		Probes: uint32(b.Probes)}
}
