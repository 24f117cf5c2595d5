// Package httpclient builds the one HTTP client that every provider shares. Its transport
// is tuned for a gateway: many concurrent, long-lived requests to a handful of upstream
// hosts, most of them server-sent event streams that must reach the client chunk by chunk.
//
// The client has no overall timeout. A stream may legitimately last many minutes, so every
// deadline (time to first byte, total time, client disconnects) comes from the request's
// context, which the router owns. The transport only bounds the phases that have no
// business being slow: dialling, the TLS handshake and an idle pooled connection.
package httpclient

import (
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults used for the zero fields of Options.
const (
	// DefaultMaxIdleConns bounds idle connections across all upstream hosts.
	DefaultMaxIdleConns = 1024
	// DefaultMaxIdleConnsPerHost keeps enough warm connections per upstream for a busy
	// gateway; net/http's default of 2 would force a new TCP and TLS handshake for almost
	// every concurrent HTTP/1.1 request (local vLLM, Ollama and LM Studio speak HTTP/1.1).
	DefaultMaxIdleConnsPerHost = 256
	// DefaultIdleConnTimeout closes pooled connections before most upstream load balancers
	// drop them silently (many do so after 120s or more).
	DefaultIdleConnTimeout = 90 * time.Second
	// DefaultDialTimeout bounds the TCP connect, so an unreachable upstream fails fast and
	// the router can try another deployment.
	DefaultDialTimeout = 10 * time.Second
	// DefaultKeepAlive is the TCP keep-alive period, so dead peers are noticed on idle
	// connections and NAT tables keep long, quiet streams open.
	DefaultKeepAlive = 30 * time.Second
	// DefaultTLSHandshakeTimeout bounds the TLS handshake.
	DefaultTLSHandshakeTimeout = 10 * time.Second
	// DefaultExpectContinueTimeout is how long to wait for "100 Continue" when a request
	// asks for it; tollgate does not, but a header set by an operator might.
	DefaultExpectContinueTimeout = time.Second
	// DefaultBufferSize is the per-connection read and write buffer. An SSE line fits
	// in it, and bufio passes reads and writes larger than the buffer straight to the
	// connection, so a bigger buffer saves no syscalls on large prompts or answers;
	// it only costs memory on every open connection (an open stream cost the gateway
	// 88 KB of resident memory with 32 KiB buffers, 79 KB with 4 KiB; BENCHMARKS.md).
	DefaultBufferSize = 4 << 10
	// DefaultPingTimeout is how long an HTTP/2 connection may stay silent before the
	// transport pings it. Many streams share one HTTP/2 connection, so a dead one must be
	// detected and closed rather than left to hang every stream on it.
	DefaultPingTimeout = 30 * time.Second
)

// Options tunes the transport. Zero fields take the defaults above.
type Options struct {
	MaxIdleConns        int
	MaxIdleConnsPerHost int
	// MaxConnsPerHost caps connections per upstream host, zero meaning no cap: the
	// router's concurrency limits already bound the load, and a cap here would queue
	// requests invisibly inside the transport.
	MaxConnsPerHost       int
	IdleConnTimeout       time.Duration
	DialTimeout           time.Duration
	KeepAlive             time.Duration
	TLSHandshakeTimeout   time.Duration
	ExpectContinueTimeout time.Duration
	PingTimeout           time.Duration
	// Proxy chooses a proxy per request; nil means http.ProxyFromEnvironment, which is
	// what operators behind an egress proxy expect (HTTPS_PROXY, NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)
}

// New returns a client with a new tuned transport. Build one at start-up and share it:
// every provider given the same client shares its connection pools.
//
// The client never follows redirects. A redirect from an LLM API almost always means a
// wrong base URL, and following it could turn a POST into a GET or send the body to
// another host; the provider reports the 3xx status instead.
func New(opts Options) *http.Client {
	return &http.Client{
		Transport:     NewTransport(opts),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var defaultClient = sync.OnceValue(func() *http.Client { return New(Options{}) })

// Default returns a process-wide client built with default Options, for callers that
// were not handed one (tests, tools). Servers should build their own with New.
func Default() *http.Client { return defaultClient() }

// NewTransport returns the tuned transport behind New.
func NewTransport(opts Options) *http.Transport {
	opts = opts.withDefaults()
	dialer := &net.Dialer{Timeout: opts.DialTimeout, KeepAlive: opts.KeepAlive}
	return &http.Transport{
		Proxy:       opts.Proxy,
		DialContext: dialer.DialContext,
		// A custom DialContext disables HTTP/2 unless asked for explicitly. Public
		// providers speak HTTP/2, where many streams share one connection.
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        opts.MaxIdleConns,
		MaxIdleConnsPerHost: opts.MaxIdleConnsPerHost,
		MaxConnsPerHost:     opts.MaxConnsPerHost,
		IdleConnTimeout:     opts.IdleConnTimeout,
		TLSHandshakeTimeout: opts.TLSHandshakeTimeout,
		// ResponseHeaderTimeout stays zero: time to first byte is the router's decision,
		// per model, through the request context.
		ResponseHeaderTimeout: 0,
		ExpectContinueTimeout: opts.ExpectContinueTimeout,
		// With compression on, net/http asks for gzip and decompresses transparently; a
		// gzip stream is only readable in blocks, which would hold SSE chunks back.
		DisableCompression: true,
		ReadBufferSize:     DefaultBufferSize,
		WriteBufferSize:    DefaultBufferSize,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: opts.PingTimeout,
			PingTimeout:     opts.PingTimeout / 2,
		},
	}
}

func (o Options) withDefaults() Options {
	setInt(&o.MaxIdleConns, DefaultMaxIdleConns)
	setInt(&o.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost)
	setDur(&o.IdleConnTimeout, DefaultIdleConnTimeout)
	setDur(&o.DialTimeout, DefaultDialTimeout)
	setDur(&o.KeepAlive, DefaultKeepAlive)
	setDur(&o.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	setDur(&o.ExpectContinueTimeout, DefaultExpectContinueTimeout)
	setDur(&o.PingTimeout, DefaultPingTimeout)
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	return o
}

func setInt(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

func setDur(v *time.Duration, def time.Duration) {
	if *v == 0 {
		*v = def
	}
}
