package fakellm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Options configures a Server. The zero value is usable; New fills in the defaults.
type Options struct {
	// Latency delays every answer, errors included, before its status line.
	Latency time.Duration
	// TTFT delays the first chunk of a stream; non-streaming answers wait as long.
	TTFT time.Duration
	// ChunkDelay is the pause between generated chunks.
	ChunkDelay time.Duration
	// Chunks is the number of generated words (tokens, stream chunks) per answer; 0 means 8.
	Chunks int
	// ErrorRate is the probability, from 0 to 1, that a request fails with ErrorStatus.
	ErrorRate float64
	// ErrorStatus is the status of injected errors; 0 means 500.
	ErrorStatus int
	// Keys lists the accepted API keys; when empty any non-empty key is accepted.
	Keys []string
	// Models lists the served models; nil means DefaultModels, and an empty list or one
	// holding "*" accepts any model name.
	Models []string
	// Seed seeds the error-injection RNG and the generated ids.
	Seed int64
	// RateLimitRequests, when positive, limits requests per minute per key.
	RateLimitRequests int
	// RateLimitTokens, when positive, limits tokens per minute per key.
	RateLimitTokens int
	// MaxRecorded bounds how many requests Requests keeps (the newest); 0 means 1000 and
	// a negative value keeps none.
	MaxRecorded int
	// CachedTokens, CacheWriteTokens and ReasoningTokens are the token counts every chat
	// answer reports, as defaults for the per-request knobs; see Tokens.
	CachedTokens, CacheWriteTokens, ReasoningTokens int
}

// DefaultModels are the models a Server serves when Options.Models is nil.
var DefaultModels = []string{
	"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-3.5-turbo-instruct",
	"text-embedding-3-small", "text-embedding-3-large",
}

// The modes a request can ask for with X-Fake-Mode or the body's fakellm.mode.
const (
	// ModeNormal answers normally.
	ModeNormal = ""
	// ModeGarbage answers 200 with a body that is not JSON.
	ModeGarbage = "garbage"
	// ModeHang never answers; the request ends when the client goes away.
	ModeHang = "hang"
	// ModeErrorMidstream sends half the stream, then an error event, and ends without
	// [DONE]; a non-streaming request gets the error status instead.
	ModeErrorMidstream = "error_midstream"
	// ModeDropMidstream sends half the stream (or half the JSON body), then drops the
	// connection.
	ModeDropMidstream = "drop_midstream"
	// ModeNoUsage leaves out the usage chunk even when stream_options.include_usage is set.
	ModeNoUsage = "no_usage"
)

const (
	defaultChunks      = 8
	defaultErrorStatus = http.StatusInternalServerError
	defaultMaxRecorded = 1000
	maxChunks          = 10000
	maxKnobTokens      = 1 << 30
	maxDelay           = 10 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.Chunks <= 0 {
		o.Chunks = defaultChunks
	}
	if o.ErrorStatus == 0 {
		o.ErrorStatus = defaultErrorStatus
	}
	if o.Models == nil {
		o.Models = append([]string(nil), DefaultModels...)
	}
	if o.MaxRecorded == 0 {
		o.MaxRecorded = defaultMaxRecorded
	}
	return o
}

// Validate reports an option out of range. New accepts any Options, but a Server built
// from invalid ones answers every request with 400.
func (o Options) Validate() error {
	o = o.withDefaults()
	k := knobs{latency: o.Latency, ttft: o.TTFT, chunkDelay: o.ChunkDelay, chunks: o.Chunks,
		errorRate: o.ErrorRate, errorStatus: o.ErrorStatus, cached: o.CachedTokens,
		cacheWrite: o.CacheWriteTokens, reasoning: o.ReasoningTokens}
	if err := k.validate(); err != nil {
		return err
	}
	if o.RateLimitRequests < 0 || o.RateLimitTokens < 0 {
		return errors.New("fakellm: rate limits must not be negative")
	}
	return nil
}

// knobs are the fault-injection settings in force for one request.
type knobs struct {
	latency, ttft, chunkDelay time.Duration
	chunks                    int
	errorRate                 float64
	errorStatus               int
	mode                      string
	// cached, cacheWrite and reasoning are the extra tokens usage reports; see Tokens.
	cached, cacheWrite, reasoning int
}

// overrides are per-request knob values; nil fields leave the value alone.
type overrides struct {
	LatencyMS    *float64 `json:"latency_ms"`
	TTFTMS       *float64 `json:"ttft_ms"`
	ChunkDelayMS *float64 `json:"chunk_delay_ms"`
	Chunks       *int     `json:"chunks"`
	ErrorRate    *float64 `json:"error_rate"`
	ErrorStatus  *int     `json:"error_status"`
	Mode         *string  `json:"mode"`
	Cached       *int     `json:"cached_tokens"`
	CacheWrite   *int     `json:"cache_write_tokens"`
	Reasoning    *int     `json:"reasoning_tokens"`
}

// knobsFor resolves the knobs of one request: Options, then headers, then the body's
// "fakellm" object.
func (s *Server) knobsFor(h http.Header, body []byte) (knobs, error) {
	k := knobs{
		latency: s.opts.Latency, ttft: s.opts.TTFT, chunkDelay: s.opts.ChunkDelay,
		chunks: s.opts.Chunks, errorRate: s.opts.ErrorRate, errorStatus: s.opts.ErrorStatus,
		cached: s.opts.CachedTokens, cacheWrite: s.opts.CacheWriteTokens, reasoning: s.opts.ReasoningTokens,
	}
	fromHeader, err := headerOverrides(h)
	if err != nil {
		return k, err
	}
	fromBody, err := bodyOverrides(body)
	if err != nil {
		return k, err
	}
	statusSet, rateSet := false, false
	for _, o := range []overrides{fromHeader, fromBody} {
		setDuration(&k.latency, o.LatencyMS)
		setDuration(&k.ttft, o.TTFTMS)
		setDuration(&k.chunkDelay, o.ChunkDelayMS)
		if o.Chunks != nil {
			k.chunks = *o.Chunks
		}
		if o.ErrorRate != nil {
			k.errorRate, rateSet = *o.ErrorRate, true
		}
		if o.ErrorStatus != nil {
			k.errorStatus, statusSet = *o.ErrorStatus, true
		}
		if o.Mode != nil {
			k.mode = *o.Mode
		}
		setInt(&k.cached, o.Cached)
		setInt(&k.cacheWrite, o.CacheWrite)
		setInt(&k.reasoning, o.Reasoning)
	}
	if statusSet && !rateSet {
		k.errorRate = 1
	}
	return k, k.validate()
}

func setDuration(d *time.Duration, ms *float64) {
	if ms != nil {
		*d = time.Duration(*ms * float64(time.Millisecond))
	}
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func (k knobs) validate() error {
	for _, n := range []int{k.cached, k.cacheWrite, k.reasoning} {
		if n < 0 || n > maxKnobTokens {
			return fmt.Errorf("fakellm: token count %d is outside 0..%d", n, maxKnobTokens)
		}
	}
	for _, d := range []time.Duration{k.latency, k.ttft, k.chunkDelay} {
		if d < 0 || d > maxDelay {
			return fmt.Errorf("fakellm: delay %v is outside 0..%v", d, maxDelay)
		}
	}
	switch {
	case k.chunks < 0 || k.chunks > maxChunks:
		return fmt.Errorf("fakellm: chunks %d is outside 0..%d", k.chunks, maxChunks)
	case k.errorRate < 0 || k.errorRate > 1:
		return fmt.Errorf("fakellm: error rate %v is outside 0..1", k.errorRate)
	case k.errorStatus < 400 || k.errorStatus > 599:
		return fmt.Errorf("fakellm: error status %d is outside 400..599", k.errorStatus)
	}
	switch k.mode {
	case ModeNormal, ModeGarbage, ModeHang, ModeErrorMidstream, ModeDropMidstream, ModeNoUsage:
		return nil
	}
	return fmt.Errorf("fakellm: unknown mode %q", k.mode)
}

func bodyOverrides(body []byte) (overrides, error) {
	var o overrides
	var peek struct {
		Fakellm json.RawMessage `json:"fakellm"`
	}
	// A body that is not a JSON object is the endpoint's problem, not the knobs'.
	if json.Unmarshal(body, &peek) != nil || len(peek.Fakellm) == 0 || string(peek.Fakellm) == "null" {
		return o, nil
	}
	if err := json.Unmarshal(peek.Fakellm, &o); err != nil {
		return o, fmt.Errorf("fakellm: invalid \"fakellm\" body field: %w", err)
	}
	return o, nil
}

func headerOverrides(h http.Header) (overrides, error) {
	var o overrides
	var err error
	durations := []struct {
		name string
		dst  **float64
	}{{"X-Fake-Latency", &o.LatencyMS}, {"X-Fake-TTFT", &o.TTFTMS}, {"X-Fake-Chunk-Delay", &o.ChunkDelayMS}}
	for _, d := range durations {
		if v := h.Get(d.name); v != "" {
			if *d.dst, err = parseMillis(v); err != nil {
				return o, fmt.Errorf("fakellm: bad %s: %w", d.name, err)
			}
		}
	}
	if err := headerInts(h, &o); err != nil {
		return o, err
	}
	if v := h.Get("X-Fake-Error-Rate"); v != "" {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return o, fmt.Errorf("fakellm: bad X-Fake-Error-Rate: %w", err)
		}
		o.ErrorRate = &f
	}
	if vs, ok := h[http.CanonicalHeaderKey("X-Fake-Mode")]; ok && len(vs) > 0 {
		m := strings.TrimSpace(vs[0])
		o.Mode = &m
	}
	return o, nil
}

// headerInts reads the integer knobs: X-Fake-Chunks, X-Fake-Error-Status and the token
// counts X-Fake-Cached-Tokens, X-Fake-Cache-Write-Tokens and X-Fake-Reasoning-Tokens.
func headerInts(h http.Header, o *overrides) error {
	ints := []struct {
		name string
		dst  **int
	}{
		{"X-Fake-Chunks", &o.Chunks}, {"X-Fake-Error-Status", &o.ErrorStatus},
		{"X-Fake-Cached-Tokens", &o.Cached}, {"X-Fake-Cache-Write-Tokens", &o.CacheWrite},
		{"X-Fake-Reasoning-Tokens", &o.Reasoning},
	}
	for _, i := range ints {
		v := h.Get(i.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("fakellm: bad %s: %w", i.name, err)
		}
		*i.dst = &n
	}
	return nil
}

// parseMillis reads a Go duration ("200ms") or a bare number of milliseconds.
func parseMillis(v string) (*float64, error) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return &f, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return nil, err
	}
	ms := float64(d) / float64(time.Millisecond)
	return &ms, nil
}
