// Package server is the HTTP edge of tollgate and the only package that imports gin. It
// holds the routes, the middleware order, the OpenAI-compatible handlers, the SSE writer,
// the admin handlers and the one place errors become responses.
//
// Middleware order: request id and access log → panic recovery → body limit → auth →
// handler. Auth is per route group: client keys on /v1, admin tokens on /admin/v1.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// Authenticator turns a presented key into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (*keys.Principal, error)
}

// Dispatcher serves inference requests over the routing table.
type Dispatcher interface {
	Complete(ctx context.Context, req *schema.Request) (*schema.Response, router.Meta, error)
	Stream(ctx context.Context, req *schema.Request) (schema.Stream, router.Meta, error)
	Lookup(name string) (*router.Route, bool)
	Routes() []*router.Route
}

// Options are the server's settings.
type Options struct {
	MaxBodyBytes int64
	// DrainTimeout is how long shutdown waits for in-flight requests and streams.
	DrainTimeout   time.Duration
	TrustedProxies []string
}

// Deps are the server's collaborators, wired by cmd/tollgate.
type Deps struct {
	Log     *slog.Logger
	Metrics *telemetry.Metrics
	Auth    Authenticator
	Admins  Authenticator
	Router  Dispatcher
	// Ready reports whether the store (and Redis, if configured) can be reached.
	Ready func(ctx context.Context) error
	// KeyDeps serve the key lifecycle routes (admin_keys.go).
	KeyDeps
	// VaultDeps serve the provider, vault and audit routes (admin_vault.go).
	VaultDeps
	// ModelDeps serve the model (route) admin routes (admin_models.go).
	ModelDeps
	// TokenAlerts handles leaked-token reports (token_alerts.go); nil: no such route.
	TokenAlerts TokenAlertService
	// AccountDeps take rate limits and budgets around every request (admit.go).
	AccountDeps
	// SpendDeps serve the spend reports and what keys have spent (admin_spend.go).
	SpendDeps
	// Observer opens a span around every request and hears how it ended (observe.go);
	// nil means none.
	Observer RequestObserver
	// Anomalies are the stored findings of the anomaly detectors
	// (admin_anomalies.go); nil leaves the route out.
	Anomalies AnomalyLister
}

// Server is tollgate's HTTP server.
type Server struct {
	Deps
	opts    Options
	engine  *gin.Engine
	log     *slog.Logger
	metrics *telemetry.Metrics
	auth    Authenticator
	admins  Authenticator
}

// New builds the server and its routes.
func New(d Deps, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 10 << 20
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{Deps: d, opts: opts, engine: gin.New(), log: d.Log, metrics: d.Metrics, auth: d.Auth, admins: d.Admins}
	if err := s.engine.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, err
	}
	s.engine.HandleMethodNotAllowed = true
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	e := s.engine
	e.Use(s.begin, s.recoverPanic)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if s.metrics != nil {
		e.GET("/metrics", gin.WrapH(s.metrics.Handler()))
	}
	v1 := e.Group("/v1", s.limitBody, s.clientAuth)
	v1.POST("/chat/completions", s.inference(schema.EndpointChat))
	v1.POST("/completions", s.inference(schema.EndpointCompletions))
	v1.POST("/embeddings", s.inference(schema.EndpointEmbeddings))
	v1.GET("/models", s.listModels)
	v1.GET("/models/*model", s.getModel)
	admin := e.Group("/admin/v1", s.limitBody, s.adminAuth)
	s.keyRoutes(v1, admin)
	s.vaultRoutes(admin)
	s.modelRoutes(admin)
	s.anomalyRoutes(admin)
	s.tokenAlertRoutes()
	s.spendRoutes(admin)
	e.NoRoute(func(c *gin.Context) {
		writeError(c, apierr.New(apierr.KindCaller, 404, "invalid_request_error", "unknown_url",
			"Invalid URL ("+c.Request.Method+" "+c.Request.URL.Path+")"))
	})
	e.NoMethod(func(c *gin.Context) {
		writeError(c, apierr.New(apierr.KindCaller, 405, "invalid_request_error", "method_not_allowed",
			"Method "+c.Request.Method+" is not allowed on "+c.Request.URL.Path))
	})
}

// Handler returns the HTTP handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.engine }

// Serve answers on ln until ctx is cancelled, then stops accepting and lets requests in
// flight, streams included, finish within the drain timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining requests in flight", "drain_timeout", s.opts.DrainTimeout.String())
	dctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	err := hs.Shutdown(dctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("drain timeout passed; closing the remaining connections")
		err = hs.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && serr != nil {
		return serr
	}
	return err
}

// ErrDegraded marks a readiness problem under which the gateway still serves, such as
// Redis being away while rate limits fail open: /readyz answers 200 "degraded".
var ErrDegraded = errors.New("degraded")

func (s *Server) healthz(c *gin.Context) {
	c.Data(200, "application/json", []byte(`{"status":"ok"}`))
}

func (s *Server) readyz(c *gin.Context) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); errors.Is(err, ErrDegraded) {
			c.JSON(200, gin.H{"status": "degraded", "detail": err.Error()})
			return
		} else if err != nil {
			s.log.Warn("not ready", "error", err)
			c.JSON(503, gin.H{"status": "unavailable", "error": err.Error()})
			return
		}
	}
	c.Data(200, "application/json", []byte(`{"status":"ready"}`))
}
