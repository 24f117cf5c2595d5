package configs

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
)

// String summarizes c without secrets: URLs are redacted, keys shown as references.
func (c Config) String() string {
	provs := make([]string, len(c.Providers))
	for i, p := range c.Providers {
		provs[i] = p.String()
	}
	return fmt.Sprintf("config{file: %q, listen: %s, database_url: %s, redis_url: %s, providers: [%s], models: %d}",
		c.File, c.Listen, redactURL(c.DatabaseURL), redactURL(c.RedisURL), strings.Join(provs, ", "), len(c.Models))
}

// GoString returns the same as String, so %#v does not print secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue logs c without secrets.
func (c Config) LogValue() slog.Value {
	provs := make([]string, len(c.Providers))
	for i, p := range c.Providers {
		provs[i] = p.String()
	}
	return slog.GroupValue(
		slog.String("file", c.File),
		slog.String("listen", c.Listen),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.Any("providers", provs),
		slog.Int("models", len(c.Models)),
		slog.Bool("demo", c.Demo),
	)
}

// String describes p with its key references and header names, never their values.
func (p Provider) String() string {
	keys := make([]string, len(p.Keys))
	for i, k := range p.Keys {
		keys[i] = k.String()
	}
	return fmt.Sprintf("provider{name: %s, type: %s, base_url: %s, keys: [%s], headers: [%s]}",
		p.Name, p.Type, redactURL(p.BaseURL), strings.Join(keys, ", "), strings.Join(p.headerNames(), ", "))
}

// GoString returns the same as String.
func (p Provider) GoString() string { return p.String() }

// LogValue logs p with key references and header names only.
func (p Provider) LogValue() slog.Value {
	keys := make([]string, len(p.Keys))
	for i, k := range p.Keys {
		keys[i] = k.Secret.String()
	}
	return slog.GroupValue(
		slog.String("name", p.Name),
		slog.String("type", p.Type),
		slog.String("base_url", redactURL(p.BaseURL)),
		slog.Any("keys", keys),
		slog.Any("headers", p.headerNames()),
	)
}

func (p Provider) headerNames() []string {
	names := make([]string, 0, len(p.Headers))
	for k := range p.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// String describes k by its reference, which is not secret.
func (k ProviderKey) String() string {
	s := k.Secret.String()
	if k.Label != "" {
		s += " (" + k.Label + ")"
	}
	return fmt.Sprintf("%s weight %d", s, k.Weight)
}

// GoString returns the same as String.
func (k ProviderKey) GoString() string { return k.String() }

// LogValue logs k by its reference.
func (k ProviderKey) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret", k.Secret.String()),
		slog.String("label", k.Label),
		slog.Int("weight", k.Weight),
	)
}

// redactURL hides a URL's password and password query parameter. Text that is not
// a URL is shown only when it cannot be a key=value DSN with a password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable]"
	}
	if u.Scheme == "" || u.Opaque != "" {
		if strings.Contains(strings.ToLower(s), "password") {
			return "[redacted]"
		}
		return s
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
