package configs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// validator collects every problem instead of stopping at the first.
type validator struct {
	c    *Config
	errs []error
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, v.c.fieldError(path, format, args...))
}

// Validate checks the whole config and returns every problem found, joined; each is a
// *FieldError naming the field path and where the value came from. Run SetDefaults
// first: Validate does not treat empty fields as their defaults.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.server()
	providers := v.providers()
	v.models(providers)
	v.routing()
	v.security()
	v.accounting()
	v.observability()
	return errors.Join(v.errs...)
}

func (v *validator) server() {
	c := v.c
	v.listen()
	v.databaseURL()
	v.redisURL()
	if c.MaxBodyBytes < 0 {
		v.add("max_body_bytes", "must not be negative")
	}
	v.duration("request_timeout", c.RequestTimeout)
	v.duration("shutdown_timeout", c.ShutdownTimeout)
	for i, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			v.add(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR", p)
		}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		v.add("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		v.add("log.format", "%q is not one of text, json", c.Log.Format)
	}
}

func (v *validator) duration(path string, d Duration) {
	if d < 0 {
		v.add(path, "must not be negative")
	}
}

func (v *validator) listen() {
	_, port, err := net.SplitHostPort(v.c.Listen)
	if err != nil {
		v.add("listen", "%q is not host:port (like 127.0.0.1:8080 or :8080)", v.c.Listen)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add("listen", "port %q is not a number from 0 to 65535", port)
	}
}

// databaseURL accepts a SQLite path or sqlite: URL and postgres:// URLs. Messages
// show the scheme only: the rest may hold a password.
func (v *validator) databaseURL() {
	const path = "database_url"
	s := v.c.DatabaseURL
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		if strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//") == "" {
			v.add(path, "sqlite: needs a file path, like sqlite:./tollgate.db")
		}
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			v.add(path, "is not a valid postgres:// URL")
			return
		}
		v.noPassword(path, "TOLLGATE_DATABASE_URL", u)
	case strings.Contains(s, "://"):
		scheme, _, _ := strings.Cut(s, "://")
		v.add(path, "unsupported scheme %q: use a file path, sqlite:PATH or postgres://", scheme)
	case strings.Contains(s, "="):
		v.add(path, "looks like a key=value DSN: use a file path, sqlite:PATH or a postgres:// URL")
	}
}

func (v *validator) redisURL() {
	const path = "redis_url"
	if v.c.RedisURL == "" {
		return
	}
	u, err := url.Parse(v.c.RedisURL)
	if err != nil {
		v.add(path, "is not a valid URL: use redis://, rediss:// or unix://")
		return
	}
	if !slices.Contains([]string{"redis", "rediss", "unix"}, u.Scheme) {
		v.add(path, "unsupported scheme %q: use redis://, rediss:// or unix://", u.Scheme)
		return
	}
	v.noPassword(path, "TOLLGATE_REDIS_URL", u)
}

// noPassword refuses a password written in the config file; the same URL is fine in
// the environment, which is where secrets belong.
func (v *validator) noPassword(path, envVar string, u *url.URL) {
	if !v.c.fromFile(path) {
		return
	}
	_, hasPass := u.User.Password()
	if hasPass || u.Query().Has("password") {
		v.add(path, "passwords are not allowed in the config file; set %s in the environment instead", envVar)
	}
}

// models checks every route; providers is the set of valid provider names.
func (v *validator) models(providers map[string]bool) {
	names := make(map[string]int, len(v.c.Models))
	for i, m := range v.c.Models {
		path := fmt.Sprintf("models[%d]", i)
		switch first, dup := names[m.Name]; {
		case m.Name == "":
			v.add(path+".name", "is required")
		case strings.TrimSpace(m.Name) != m.Name:
			v.add(path+".name", "%q has leading or trailing spaces", m.Name)
		case dup:
			v.add(path+".name", "duplicate model name %q (also models[%d])", m.Name, first)
		default:
			names[m.Name] = i
		}
	}
	for i, m := range v.c.Models {
		v.model(fmt.Sprintf("models[%d]", i), m, providers, names)
	}
}

func (v *validator) model(path string, m Model, providers map[string]bool, models map[string]int) {
	if !slices.Contains(Strategies(), m.Strategy) {
		v.add(path+".strategy", "%q is not one of %s", m.Strategy, strings.Join(Strategies(), ", "))
	}
	if len(m.Targets) == 0 {
		v.add(path+".targets", "at least one target is required")
	}
	for j, t := range m.Targets {
		tp := fmt.Sprintf("%s.targets[%d]", path, j)
		switch {
		case t.Provider == "":
			v.add(tp+".provider", "is required")
		case !providers[t.Provider]:
			v.add(tp+".provider", "unknown provider %q (configured: %s)", t.Provider, setList(providers))
		}
		if t.Model == "" {
			v.add(tp+".model", "is required")
		}
		if t.Weight < 0 {
			v.add(tp+".weight", "must not be negative")
		}
		if t.Priority < 0 {
			v.add(tp+".priority", "must not be negative")
		}
		v.pricing(tp+".pricing", t.Pricing)
	}
	for k, f := range m.Fallbacks {
		fp := fmt.Sprintf("%s.fallbacks[%d]", path, k)
		if _, ok := models[f]; !ok {
			v.add(fp, "unknown model %q", f)
		} else if f == m.Name {
			v.add(fp, "a model cannot fall back to itself")
		}
	}
	v.duration(path+".timeout", m.Timeout)
	if m.Retries != nil && *m.Retries < 0 {
		v.add(path+".retries", "must not be negative")
	}
	v.pricing(path+".pricing", m.Pricing)
}

func (v *validator) pricing(path string, p *Pricing) {
	if p == nil {
		return
	}
	for _, f := range []struct{ name, val string }{
		{"input_per_mtok", p.InputPerMTok},
		{"output_per_mtok", p.OutputPerMTok},
		{"cached_input_per_mtok", p.CachedInputPerMTok},
		{"cache_write_per_mtok", p.CacheWritePerMTok},
	} {
		if f.val != "" && !isDecimal(f.val) {
			v.add(path+"."+f.name, "%q is not a non-negative decimal in USD per million tokens, like 2.50", f.val)
		}
	}
}

// isDecimal reports whether s is digits with at most one decimal point ("2", "2.50",
// ".5"): what billing parses exactly, with no exponent and no sign.
func isDecimal(s string) bool {
	digits, dot := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

func setList(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
