package fakellm

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBody bounds request bodies; the fake reads bodies whole to record them.
const maxBody = 32 << 20

// dialect is one provider's wire format: its routes, where it carries the API key, and
// how it renders errors and response headers.
type dialect interface {
	routes() []route
	// credential returns the API key the request carries, or "" when it carries none.
	credential(r *http.Request) string
	// writeError answers e in the dialect's error shape.
	writeError(c *call, e *apiError)
	// setHeaders sets the dialect's response headers just before the status is written.
	setHeaders(c *call)
}

// route is one endpoint of a dialect.
type route struct {
	method string
	path   string // exact, or a prefix when prefix is set
	prefix bool
	handle func(*call)
	d      dialect
}

// Server is a fake LLM provider. It is an http.Handler, safe for concurrent use.
type Server struct {
	opts     Options
	dialects []dialect
	routes   []route
	stats    stats
	limits   *limiter
	seq      atomic.Uint64

	rngMu sync.Mutex
	rng   *rand.Rand

	mu  sync.Mutex
	srv *http.Server
}

var _ http.Handler = (*Server)(nil)

// New returns a Server with opts, defaults filled in.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:     opts,
		dialects: []dialect{openAI{}, gemini{}, cohere{}, azure{}, newBedrock(opts), anthropic{}},
		limits:   newLimiter(opts.RateLimitRequests, opts.RateLimitTokens),
		rng:      newRNG(opts.Seed),
	}
	s.stats.init(opts.MaxRecorded)
	for _, d := range s.dialects {
		for _, rt := range d.routes() {
			rt.d = d
			s.routes = append(s.routes, rt)
		}
	}
	return s
}

func newRNG(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x7f4a7c15))
}

// Start serves s on addr ("127.0.0.1:0" picks a free port) and returns the base URL an
// OpenAI SDK would use, ending in "/v1". An empty addr means "127.0.0.1:0".
func (s *Server) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", errors.New("fakellm: server already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/v1", nil
}

// Shutdown stops the server started by Start gracefully: it waits for requests in
// flight until ctx is done, then closes the connections still open and returns ctx's
// error.
func (s *Server) Shutdown(ctx context.Context) error {
	srv := s.detach()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	return nil
}

// Close stops the server started by Start at once, closing every connection; requests
// still running see their client go away.
func (s *Server) Close() error {
	srv := s.detach()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// detach forgets the server started by Start, so that Start can run again.
func (s *Server) detach() *http.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	srv := s.srv
	s.srv = nil
	return srv
}

// ServeHTTP answers one request: auth, rate limits, latency, injected faults, then the
// endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, w: w, r: r, start: time.Now(), d: s.dialects[0]}
	c.id = s.newID("req_", 32)
	rt, status := s.match(r)
	if rt != nil {
		c.d = rt.d
	}
	c.key = c.d.credential(r)
	c.body, _ = io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.stats.begin(c)
	defer s.stats.end(c)
	c.rate = s.limits.peek(c.key, c.start)
	if rt == nil {
		c.fail(errRoute(status, r))
		return
	}
	if !s.authorized(c.key) {
		c.fail(errUnauthorized(c.key == ""))
		return
	}
	k, err := s.knobsFor(r.Header, c.body)
	c.k = k
	if err != nil {
		c.fail(errBadRequest(err.Error(), "fakellm", "invalid_value"))
		return
	}
	var denied *apiError
	c.rate, denied = s.limits.admit(c.key, c.start)
	if denied != nil {
		c.fail(denied)
		return
	}
	if !c.sleep(k.latency) {
		return
	}
	if s.roll(k.errorRate) {
		c.fail(errInjected(k.errorStatus))
		return
	}
	switch k.mode {
	case ModeGarbage:
		c.garbage()
	case ModeHang:
		c.hang()
	default:
		rt.handle(c)
	}
}

// match finds the route for r, or the status to answer when there is none.
func (s *Server) match(r *http.Request) (*route, int) {
	status := http.StatusNotFound
	for i := range s.routes {
		rt := &s.routes[i]
		if r.URL.Path != rt.path && !(rt.prefix && strings.HasPrefix(r.URL.Path, rt.path)) {
			continue
		}
		if r.Method == rt.method {
			return rt, 0
		}
		status = http.StatusMethodNotAllowed
	}
	return nil, status
}

func (s *Server) authorized(key string) bool {
	if key == "" {
		return false
	}
	return len(s.opts.Keys) == 0 || slices.Contains(s.opts.Keys, key)
}

// servesModel reports whether model is one of Options.Models.
func (s *Server) servesModel(model string) bool {
	if len(s.opts.Models) == 0 || slices.Contains(s.opts.Models, "*") {
		return true
	}
	return slices.Contains(s.opts.Models, model)
}

// roll reports whether a request fails, drawing from the seeded RNG.
func (s *Server) roll(rate float64) bool {
	switch {
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < rate
}

// Reset forgets recorded requests, counters, in-flight maxima and rate-limit windows,
// and reseeds the RNG, as if s were new. Requests still running stay in flight.
func (s *Server) Reset() {
	s.stats.reset()
	s.limits.reset()
	s.seq.Store(0)
	s.rngMu.Lock()
	s.rng = newRNG(s.opts.Seed)
	s.rngMu.Unlock()
}
