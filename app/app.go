// Package app assembles a running gateway from a configuration: it opens the store,
// boots the vault, loads the keys, builds the providers and routes, and hands them to
// the server. cmd/tollgate calls it; integration tests call it too, so they run the very
// gateway users run.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/quota"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/server"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/telemetry"
	"github.com/tollgate-llm/tollgate/vault"
)

// Options are what the process supplies besides the config.
type Options struct {
	Config *configs.Config
	// Getenv reads the environment (TOLLGATE_MASTER_KEY, TOLLGATE_ADMIN_TOKEN); nil
	// means os.Getenv.
	Getenv func(string) string
	// Log receives the structured log; nil means JSON on stderr.
	Log *slog.Logger
	// Notice receives messages meant for the person at the terminal (the generated
	// master key notice, the demo key); nil means stderr.
	Notice io.Writer
	// KeyFile is where a generated master key is written; default ./tollgate.key.
	KeyFile string
	// TraceExporter, when set, receives every span whatever the OTEL_* variables say
	// (tests use an in-memory one).
	TraceExporter sdktrace.SpanExporter
}

// App is an assembled gateway.
type App struct {
	Server  *server.Server
	Store   *store.DB
	Keys    *keys.Manager
	Auth    *keys.Authenticator
	Router  *router.Router
	Vault   *vault.Vault
	Fake    *fakellm.Server
	Metrics *telemetry.Metrics
	// DemoKey is the client key created for --demo; empty otherwise.
	DemoKey string
	// DemoAdminToken is the admin token made up for --demo when none was configured.
	DemoAdminToken string

	cfg    *configs.Config
	log    *slog.Logger
	hasher *keys.Hasher
	redis  *redis.Client
	closer []func() error
	// audit is the hash-chained audit log (app/vault.go).
	audit *audit.Log
	// onProvidersChanged rebuilds the routes after a provider change; set by routes.go.
	onProvidersChanged func(ctx context.Context)
	// providers is the state of stored providers (app/providers.go).
	providers providerState
	// lifecycle is the key lifecycle's services and invalidation bus (app/keys.go).
	lifecycle *keyLifecycle
	// routing is the routing state (app/routes.go).
	routing *routing
	// Spend is the batched spend log writer (app/accounting.go).
	Spend *billing.Writer
	// limiter is the Redis rate limiter, nil when limits are in-process.
	limiter *quota.Redis
	ledger  *billing.Ledger
	// accounts supply limits, budgets and prices per request (app/accounts.go).
	accounts *accounts
	// modelLimits are the config models' gateway-wide rate limits.
	modelLimits map[string]*configs.RateLimits
	getenv      func(string) string
}

// New assembles the gateway. On error everything opened so far is closed.
func New(ctx context.Context, o Options) (a *App, err error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Config.Demo {
		o.Getenv = demoGetenv(o.Getenv)
	}
	if o.Log == nil {
		o.Log = telemetry.NewLogger(os.Stderr, telemetry.ParseLevel(o.Config.Log.Level))
	}
	if o.Notice == nil {
		o.Notice = os.Stderr
	}
	a = &App{cfg: o.Config, log: o.Log, Metrics: telemetry.NewMetrics(), getenv: o.Getenv,
		modelLimits: map[string]*configs.RateLimits{}}
	for _, m := range o.Config.Models {
		if m.Limits != nil {
			a.modelLimits[m.Name] = m.Limits
		}
	}
	opened := a // a is nil by the time a failed New returns.
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()
	if a.Store, err = store.Open(ctx, o.Config.DatabaseURL); err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	a.closer = append(a.closer, a.Store.Close)
	if err = a.openVault(ctx, o); err != nil {
		return nil, err
	}
	adminToken, err := a.openKeys(ctx, o)
	if err != nil {
		return nil, err
	}
	if o.Config.Demo {
		if adminToken, err = a.startDemo(adminToken, o.Getenv); err != nil {
			return nil, err
		}
	}
	if err = a.openRouter(ctx, o.Getenv); err != nil {
		return nil, err
	}
	accounts, err := a.openAccounts(ctx)
	if err != nil {
		return nil, err
	}
	alerts, err := a.tokenAlerts()
	if err != nil {
		return nil, err
	}
	observer, err := a.openTelemetry(ctx, o)
	if err != nil {
		return nil, err
	}
	a.Server, err = server.New(server.Deps{Log: o.Log, Metrics: a.Metrics, Auth: a.Auth,
		Admins: a.adminAuthenticator(adminToken), Router: a.Router, Ready: a.ready,
		KeyDeps: a.keyDeps(), VaultDeps: a.vaultDeps(), ModelDeps: a.modelDeps(), AccountDeps: accounts,
		SpendDeps: a.spendDeps(), TokenAlerts: alerts, Observer: observer, Anomalies: a.anomalies()},
		server.Options{MaxBodyBytes: o.Config.MaxBodyBytes, DrainTimeout: o.Config.ShutdownTimeout.Std(),
			TrustedProxies: o.Config.TrustedProxies})
	if err != nil {
		return nil, err
	}
	if o.Config.Demo {
		if err = a.createDemoKey(ctx, o.Notice, adminToken); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *App) ready(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		a.log.Warn("store unreachable", "error", err)
		return errors.New("store unreachable")
	}
	if a.redis != nil {
		if err := a.redis.Ping(ctx).Err(); err != nil {
			a.log.Warn("redis unreachable", "error", err)
			if a.cfg.Limits.RedisFailure == "fail_closed" {
				return errors.New("redis unreachable")
			}
			return fmt.Errorf("%w: redis unreachable; rate limits are per replica until it returns", server.ErrDegraded)
		}
	}
	return nil
}

// Run serves on ln until ctx is cancelled, then drains.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	a.log.Info("tollgate listening", "addr", ln.Addr().String(), "models", len(a.Router.Routes()))
	return a.Server.Serve(ctx, ln)
}

// Close releases everything New opened, in reverse order.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closer) - 1; i >= 0; i-- {
		errs = append(errs, a.closer[i]())
	}
	a.closer = nil
	return errors.Join(errs...)
}

// Listen opens the configured listen address.
func Listen(addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return lc.Listen(ctx, "tcp", addr)
}
