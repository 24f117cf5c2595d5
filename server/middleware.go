package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// reqInfo is the typed per-request state: set by middleware and handlers, read by the
// access log. It travels in the request context under a private key.
type reqInfo struct {
	id        string
	clientID  string
	clientIP  string // gin's ClientIP, worked out once in begin
	start     time.Time
	principal *keys.Principal
	endpoint  string
	model     string
	provider  string
	upstream  string
	attempts  int
	stream    bool
	ttft      time.Duration
	prompt    int64
	complete  int64
	cost      int64
	errCode   string
	err       error
	// end ends the observer's record of the request (observe.go); nil without one.
	end func(telemetry.RequestEnd)
}

type infoKey struct{}

func info(c *gin.Context) *reqInfo {
	ri, _ := c.Request.Context().Value(infoKey{}).(*reqInfo)
	return ri
}

// requestID makes the request's own id: "req_" and 24 random hex digits.
func requestID() string {
	var b [12]byte
	rand.Read(b[:])
	var out [4 + 2*len(b)]byte
	copy(out[:], "req_")
	hex.Encode(out[4:], b[:])
	return string(out[:])
}

// clientRequestID returns a client's x-request-id when it is short, plain and does not
// look like a secret; it is logged for correlation only. The request's own id, which
// billing is idempotent on, is always tollgate's: a client that reused an id would
// otherwise have its later requests' spend rows dropped as duplicates.
func clientRequestID(in string) string {
	if n := len(in); n > 0 && n <= 64 && strings.IndexFunc(in, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 && !telemetry.HasSecret(in) {
		return in
	}
	return ""
}

// headerRequestID is x-request-id in the canonical form that net/http stores request
// headers under; indexing the map with it skips Header.Get's canonicalisation, which
// allocates for a name like this one on every call.
const headerRequestID = "X-Request-Id"

// firstHeader returns the first value of the header whose canonical name is key.
func firstHeader(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// begin sets the request id and the per-request state, and writes the access log line
// when the request is done. The client's address is worked out here, once: the
// authentication, the spend row, the access log and the observer all need it.
func (s *Server) begin(c *gin.Context) {
	ri := &reqInfo{id: requestID(), clientID: clientRequestID(firstHeader(c.Request.Header, headerRequestID)),
		start: time.Now(), clientIP: c.ClientIP()}
	c.Request = c.Request.WithContext(s.observe(context.WithValue(c.Request.Context(), infoKey{}, ri), c, ri))
	c.Writer.Header()[headerRequestID] = []string{ri.id}
	c.Next()
	s.accessLog(c, ri)
}

// accessLog writes the request's log line, counts it in the metrics and ends its
// observation.
func (s *Server) accessLog(c *gin.Context, ri *reqInfo) {
	status := c.Writer.Status()
	now := time.Now()
	d := now.Sub(ri.start)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	// The handler is called directly rather than through Logger.LogAttrs, which would
	// also capture the caller's program counter (a stack walk per request) that no
	// tollgate handler writes, and build the attributes even when the level is off.
	ctx := c.Request.Context()
	if h := s.log.Handler(); h.Enabled(ctx, level) {
		r := slog.NewRecord(now, level, "request", 0)
		addAccessAttrs(&r, c, ri, status, d)
		_ = h.Handle(ctx, r) // Like Logger.LogAttrs, a failed log write is not the request's failure.
	}
	if s.metrics != nil && ri.endpoint != "" {
		s.metrics.Request(ri.endpoint, ri.model, ri.provider, status, ri.errCode, d)
	}
	s.endObserved(c, ri, status)
}

// addAccessAttrs adds the access log line's attributes to r, in one call so that the
// record grows its attribute storage once.
func addAccessAttrs(r *slog.Record, c *gin.Context, ri *reqInfo, status int, d time.Duration) {
	var buf [24]slog.Attr
	attrs := append(buf[:0],
		slog.String("request_id", ri.id), slog.String("client_request_id", ri.clientID), slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path), slog.Int("status", status),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000), slog.String("client_ip", ri.clientIP),
		slog.Int("bytes_out", c.Writer.Size()),
	)
	if ri.principal != nil {
		attrs = append(attrs, slog.String("key_id", ri.principal.ID))
		if ri.principal.Project != "" {
			attrs = append(attrs, slog.String("project", ri.principal.Project))
		}
	}
	if ri.model != "" {
		attrs = append(attrs, slog.String("model", ri.model), slog.Bool("stream", ri.stream),
			slog.String("provider", ri.provider), slog.String("upstream_model", ri.upstream),
			slog.Int("attempts", ri.attempts), slog.Int64("prompt_tokens", ri.prompt),
			slog.Int64("completion_tokens", ri.complete), slog.Int64("cost_nano_usd", ri.cost))
	}
	if ri.ttft > 0 {
		attrs = append(attrs, slog.Float64("ttft_ms", float64(ri.ttft.Microseconds())/1000))
	}
	if ri.errCode != "" {
		attrs = append(attrs, slog.String("error_code", ri.errCode))
	}
	if ri.err != nil {
		attrs = append(attrs, slog.Any("error", ri.err))
	}
	r.AddAttrs(attrs...)
}

// recoverPanic turns a panic into a 500 in OpenAI's shape. Unlike gin's own recovery it
// never dumps the request, whose headers carry keys.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic in handler", "request_id", c.Writer.Header().Get("x-request-id"),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				writeError(c, errors.New("panic"))
			}
			c.Abort()
		}
	}()
	c.Next()
}

// limitBody rejects bodies over the limit with 413, early when Content-Length says so.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.opts.MaxBodyBytes {
		writeError(c, apierr.TooLarge(s.opts.MaxBodyBytes))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	c.Next()
}

// bearer returns the key from Authorization: Bearer, api-key or x-api-key. Keys in a
// query string are never read.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
		return ""
	}
	if h := r.Header.Get("api-key"); h != "" {
		return h
	}
	return r.Header.Get("x-api-key")
}

// admitter is the optional ability of an Authenticator to check the request's address
// and time-of-day rules and to count uses of keys with a use cap.
type admitter interface {
	Admit(ctx context.Context, key string, ip netip.Addr) (*keys.Principal, error)
}

// clientAddr is the client's address: the connection's peer, or X-Forwarded-For when
// the peer is a trusted proxy (Options.TrustedProxies). An unparsable address is the
// zero Addr, which no allowed_ips rule contains.
func clientAddr(c *gin.Context) netip.Addr {
	a, err := netip.ParseAddr(clientIP(c))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// clientIP is gin's ClientIP for the request, as begin worked it out.
func clientIP(c *gin.Context) string {
	if ri := info(c); ri != nil {
		return ri.clientIP
	}
	return c.ClientIP()
}

// throttled answers 429 when the address has failed to authenticate too often.
func (s *Server) throttled(c *gin.Context, ip netip.Addr) bool {
	if s.Throttle == nil {
		return false
	}
	wait, ok := s.Throttle.Allow(ip)
	if ok {
		return false
	}
	e := apierr.New(apierr.KindPolicy, 429, "requests", "rate_limit_exceeded",
		"Too many failed authentication attempts from your address; retry later.")
	e.RetryAfter = wait
	writeError(c, e)
	return true
}

// clientAuth authenticates a client or ephemeral key.
func (s *Server) clientAuth(c *gin.Context) {
	key := bearer(c.Request)
	if key == "" {
		writeError(c, apierr.InvalidAPIKey("You didn't provide an API key. Send your tollgate key as 'Authorization: Bearer tgk_...'."))
		return
	}
	ip := clientAddr(c)
	if s.throttled(c, ip) {
		return
	}
	var p *keys.Principal
	var err error
	if ad, ok := s.auth.(admitter); ok {
		p, err = ad.Admit(c.Request.Context(), key, ip)
	} else {
		p, err = s.auth.Authenticate(c.Request.Context(), key)
	}
	if err == nil && p.Kind == keys.KindAdmin {
		err = apierr.InvalidAPIKey("admin tokens cannot call the inference API; use a client key")
	}
	if err != nil {
		if s.Throttle != nil && errors.Is(err, keys.ErrBadCredential) {
			s.Throttle.Fail(ip)
		}
		writeError(c, err)
		return
	}
	info(c).principal = p
	c.Next()
}

// adminAuth authenticates an admin token and enforces its role: a viewer may only
// read. Failures are audited and, like missing tokens, count towards the throttle.
func (s *Server) adminAuth(c *gin.Context) {
	ip := clientAddr(c)
	if s.throttled(c, ip) {
		return
	}
	token := bearer(c.Request)
	p, err := s.admins.Authenticate(c.Request.Context(), token)
	if err != nil {
		if s.Throttle != nil && (token == "" || errors.Is(err, keys.ErrBadCredential)) {
			s.Throttle.Fail(ip)
		}
		s.auditAuthFailure(c, "invalid_token")
		writeError(c, err)
		return
	}
	info(c).principal = p
	if p.Role != keys.RoleAdmin && c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		s.auditAuthFailure(c, "read_only_role")
		writeError(c, apierr.Permission("insufficient_role", "This admin token has the "+p.Role+" role: it may only read."))
		return
	}
	c.Next()
}

// auditAuthFailure records a refused admin request. The audit log being down does not
// change the answer (the request is refused either way); it is logged.
func (s *Server) auditAuthFailure(c *gin.Context, reason string) {
	if s.AdminTokens == nil {
		return
	}
	a := actor(c)
	if err := s.AdminTokens.AuthFailed(c.Request.Context(), a, reason); err != nil {
		s.log.Error("could not audit a failed admin authentication", "request_id", a.RequestID, "error", err)
	}
}
