package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/quota"
	"github.com/tollgate-llm/tollgate/server"
	"github.com/tollgate-llm/tollgate/store"
)

// accounts tells the server which limits, budgets and prices apply to a request. Every
// answer comes from memory: keys carry their settings, projects are cached and dropped
// on change, prices are computed with the routes.
type accounts struct {
	a        *App
	projects *projectCache
}

var _ server.Accounts = (*accounts)(nil)

func limitOf(scope string, l *keys.Limits) (quota.Limit, bool) {
	if l == nil || (l.RPM == 0 && l.TPM == 0 && l.MaxParallel == 0) {
		return quota.Limit{}, false
	}
	return quota.Limit{Scope: scope, RPM: l.RPM, TPM: l.TPM, MaxParallel: l.MaxParallel}, true
}

// Limits are the key's limits, its parent's (a child shares them), its project's and
// the model's gateway-wide limit.
func (c *accounts) Limits(p *keys.Principal, model string) []quota.Limit {
	var out []quota.Limit
	add := func(l quota.Limit, ok bool) {
		if ok {
			out = append(out, l)
		}
	}
	add(limitOf(quota.KeyScope(p.ID), p.Settings.Limits))
	if parent := p.Parent(); parent != nil {
		add(limitOf(quota.KeyScope(parent.ID), parent.Settings.Limits))
	}
	if p.Project != "" {
		if ps := c.projects.get(p.Project); ps != nil {
			add(limitOf(quota.ProjectScope(p.Project), ps.Limits))
		}
	}
	if rl := c.a.modelLimits[model]; rl != nil {
		add(limitOf(quota.ModelScope(model), &keys.Limits{RPM: rl.RPM, TPM: rl.TPM, MaxParallel: rl.MaxParallel}))
	}
	return out
}

// Budgets are the key's budget, its parent's (a child's spend counts against both) and
// its project's.
func (c *accounts) Budgets(p *keys.Principal) []billing.Budget {
	var out []billing.Budget
	add := func(scope billing.Scope, subject string, b *keys.Budget) {
		if bud, ok, err := billing.BudgetFrom(scope, subject, b); ok && err == nil {
			out = append(out, bud)
		}
	}
	add(billing.ScopeKey, p.ID, p.Settings.Budget)
	if parent := p.Parent(); parent != nil {
		add(billing.ScopeKey, parent.ID, parent.Settings.Budget)
	}
	if p.Project != "" {
		if ps := c.projects.get(p.Project); ps != nil {
			add(billing.ScopeProject, p.Project, ps.Budget)
		}
	}
	return out
}

// Prices are the prices of every target of the model and of its fallbacks, and the
// largest output limit among them for a worst case without max_tokens.
func (c *accounts) Prices(model string) ([]billing.Price, int64) {
	book := c.a.routing.book.Load()
	if book == nil {
		return nil, 0
	}
	var prices []billing.Price
	var out int64
	names := []string{model}
	if rt, ok := c.a.Router.Lookup(model); ok {
		names = append(names, rt.Fallbacks...)
	}
	for _, name := range names {
		for _, p := range (*book)[name] {
			prices = append(prices, p)
			out = max(out, p.MaxOutputTokens)
		}
	}
	return prices, out
}

// PriceOf is the price of the target of model that answered, or of a fallback's.
func (c *accounts) PriceOf(model, provider, upstream string) billing.Price {
	book := c.a.routing.book.Load()
	if book == nil {
		return billing.Price{}
	}
	if p, ok := (*book)[model][provider+"\x00"+upstream]; ok {
		return p
	}
	if rt, ok := c.a.Router.Lookup(model); ok {
		for _, f := range rt.Fallbacks {
			if p, ok := (*book)[f][provider+"\x00"+upstream]; ok {
				return p
			}
		}
	}
	return billing.Price{}
}

// priceBook maps a route to the billing price of each of its targets, keyed by
// provider name and upstream model.
type priceBook map[string]map[string]billing.Price

func (b priceBook) add(route, provider, model string, p billing.Price) {
	if b[route] == nil {
		b[route] = map[string]billing.Price{}
	}
	b[route][provider+"\x00"+model] = p
}

// projectCache holds projects' settings in memory. An entry is dropped when the
// project changes on any replica (the bus), and re-read after projectTTL in case a
// message was lost.
type projectCache struct {
	db  *store.DB
	log *slog.Logger
	mu  sync.Mutex
	m   map[string]projectEntry
}

type projectEntry struct {
	settings *keys.ProjectSettings
	at       time.Time
}

const projectTTL = 30 * time.Second

func newProjectCache(db *store.DB, log *slog.Logger) *projectCache {
	return &projectCache{db: db, log: log, m: map[string]projectEntry{}}
}

func (pc *projectCache) forget(name string) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if name == "" || name == "*" {
		clear(pc.m)
		return
	}
	delete(pc.m, name)
}

// get returns a project's settings, nil when it does not exist or cannot be read (a
// store outage then costs the project's limits, never the request).
func (pc *projectCache) get(name string) *keys.ProjectSettings {
	pc.mu.Lock()
	e, ok := pc.m[name]
	pc.mu.Unlock()
	if ok && time.Since(e.at) < projectTTL {
		return e.settings
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	row, err := pc.db.GetProject(ctx, name)
	var s *keys.ProjectSettings
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		pc.log.Warn("reading a project's limits failed; using the cached ones", "project", name, "error", err)
		return e.settings
	default:
		s = &keys.ProjectSettings{}
		if err := json.Unmarshal(row.Settings, s); err != nil {
			s = nil
		}
	}
	pc.mu.Lock()
	pc.m[name] = projectEntry{settings: s, at: time.Now()}
	pc.mu.Unlock()
	return s
}
