package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/invalidate"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/server"
	"github.com/tollgate-llm/tollgate/store"
)

// keyRefreshEvery is how often each replica reads the keys changed in the store, the
// safety net behind invalidation messages that were lost.
const keyRefreshEvery = 30 * time.Second

// keyLifecycle holds the key lifecycle's parts between openKeys and keyDeps.
type keyLifecycle struct {
	clock    *switchClock
	bus      invalidate.Bus
	keys     *admin.Keys
	projects *admin.Projects
	tokens   *admin.Tokens
	throttle *keys.Throttle
}

// switchClock is the key lifecycle's time source. Production reads time.Now; tests
// move it (see keys_export_test.go) to cross expiries and grace periods.
type switchClock struct {
	now atomic.Pointer[func() time.Time]
}

func newSwitchClock() *switchClock {
	c := &switchClock{}
	f := time.Now
	c.now.Store(&f)
	return c
}

// Now returns the current time.
func (c *switchClock) Now() time.Time { return (*c.now.Load())() }

// openKeys unseals the key-hashing secret, starts the invalidation bus, loads every key
// into memory, builds the key lifecycle services and returns the bootstrap admin token.
func (a *App) openKeys(ctx context.Context, o Options) (string, error) {
	// The HMAC secret of key hashes is sealed in the meta table; the first replica to
	// start creates it.
	secret, err := sealedMetaSecret(ctx, a.Store, a.Vault, "hmac_secret")
	if err != nil {
		return "", fmt.Errorf("opening the key-hashing secret: %w", err)
	}
	a.hasher = keys.NewHasher(secret)
	clear(secret)
	l := &keyLifecycle{clock: newSwitchClock(), throttle: keys.NewThrottle(keys.ThrottleOptions{})}
	a.lifecycle = l
	a.Auth = keys.NewAuthenticator(a.Store, a.hasher, l.clock.Now)
	if l.bus, err = a.openBus(ctx); err != nil {
		return "", err
	}
	// Subscribe before loading, so that no change between the two is missed.
	l.bus.Subscribe(keys.InvalidationTopic, a.onKeyChange)
	if err := a.Auth.Load(ctx); err != nil {
		return "", err
	}
	a.startKeyRefresh()
	d := admin.Deps{Hasher: a.hasher, Auditor: a.auditor(), Bus: l.bus, Now: l.clock.Now, Log: a.log}
	l.keys = admin.NewKeys(a.Store, d)
	l.projects = admin.NewProjects(a.Store, d)
	l.tokens = admin.NewTokens(a.Store, d)
	a.Keys = keys.NewManager(a.Store, a.Auth)
	return o.Getenv("TOLLGATE_ADMIN_TOKEN"), nil
}

// openBus starts the invalidation bus: Redis when configured, else PostgreSQL
// LISTEN/NOTIFY when the store is PostgreSQL, else in-process only (one replica on
// SQLite).
func (a *App) openBus(ctx context.Context) (invalidate.Bus, error) {
	opts := invalidate.Options{Log: a.log}
	switch {
	case a.cfg.RedisURL != "":
		client, err := a.redisClient()
		if err != nil {
			return nil, err
		}
		bus := invalidate.NewRedis(client, opts)
		if err := bus.Start(ctx); err != nil {
			return nil, fmt.Errorf("starting key invalidation over redis: %w", err)
		}
		a.closer = append(a.closer, bus.Close)
		return bus, nil
	case a.Store.Dialect() == store.DialectPostgres:
		bus := invalidate.NewPostgres(a.cfg.DatabaseURL, a.Store.SQL(), opts)
		if err := bus.Start(ctx); err != nil {
			return nil, fmt.Errorf("starting key invalidation over postgres: %w", err)
		}
		a.closer = append(a.closer, bus.Close)
		return bus, nil
	}
	return invalidate.NewLocal(a.log), nil
}

// invalidationBus is the bus other parts of the app use to tell every replica that
// something they cache changed (topics of their own, such as "models").
func (a *App) invalidationBus() invalidate.Bus { return a.lifecycle.bus }

// onKeyChange reloads a key (or every key) when told it changed.
func (a *App) onKeyChange(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if id == invalidate.All {
		err = a.Auth.Reload(ctx)
	} else {
		err = a.Auth.Invalidate(ctx, id)
	}
	if err != nil {
		a.log.Warn("could not reload a changed key; it is read from the store on its next use", "key_id", id, "error", err)
	}
}

// startKeyRefresh runs Authenticator.Refresh every keyRefreshEvery until Close.
func (a *App) startKeyRefresh() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("key refresh panicked", "panic", fmt.Sprint(r))
			}
		}()
		t := time.NewTicker(keyRefreshEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := a.Auth.Refresh(ctx); err != nil && ctx.Err() == nil {
					a.log.Warn("refreshing keys from the store failed", "error", err)
				}
			}
		}
	}()
	a.closer = append(a.closer, func() error { cancel(); <-done; return nil })
}

// adminAuthenticator checks the bootstrap admin token and the stored ones.
func (a *App) adminAuthenticator(bootstrap string) *keys.AdminTokens {
	return keys.NewAdminAuthenticator(a.Auth, bootstrap)
}

// keyDeps are the server's key lifecycle collaborators.
func (a *App) keyDeps() server.KeyDeps {
	l := a.lifecycle
	return server.KeyDeps{KeyService: l.keys, Mint: l.keys, Projects: l.projects, AdminTokens: l.tokens,
		Throttle: l.throttle, Now: l.clock.Now}
}
