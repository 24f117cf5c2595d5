package configs

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Limits configures how rate limits behave across replicas.
type Limits struct {
	// RedisFailure is what happens while Redis is unreachable: "fail_open" (the
	// default) falls back to per-replica limits; "fail_closed" answers 503.
	RedisFailure string `yaml:"redis_failure"`
	// RedisTimeout bounds each rate-limit call to Redis, the wait for a connection
	// included; an answer slower than this counts as Redis unreachable, and
	// RedisFailure applies. Default 1s.
	RedisTimeout Duration `yaml:"redis_timeout"`
}

// Billing configures budgets, the spend log and budget alerts.
type Billing struct {
	// TimeZone is the IANA zone in which budget periods (day, week, month) reset and
	// daily reports are cut. Default UTC.
	TimeZone string `yaml:"time_zone"`
	// SpillDir holds spend rows the database could not take yet; one per replica.
	// Default: beside a SQLite database ("tollgate.db-spill"), else "./tollgate-spill".
	SpillDir string `yaml:"spill_dir"`
	// Retention deletes spend log rows older than this (0: keep them forever). The
	// daily rollups that reports read are kept.
	Retention Duration `yaml:"retention"`
	// AlertWebhooks receive budget alerts at 50%, 80% and 100%, signed with
	// AlertSecret in X-Tollgate-Signature.
	AlertWebhooks []string  `yaml:"alert_webhooks"`
	AlertSecret   SecretRef `yaml:"alert_secret"`
	// RedisPrefix starts the Redis keys of budget counters, so that deployments can
	// share one Redis; it must hold one {hash tag}. Default "tollgate:{budget}:".
	RedisPrefix string `yaml:"redis_prefix"`
}

// RateLimits are a gateway-wide limit on one model, protecting a provider account's
// own limits. Zero means unlimited.
type RateLimits struct {
	RPM         int64 `yaml:"rpm"`
	TPM         int64 `yaml:"tpm"`
	MaxParallel int64 `yaml:"max_parallel"`
}

// hashTag matches a Redis key prefix with one non-empty {hash tag}.
var hashTag = regexp.MustCompile(`^[^{}]*\{[^{}]+\}[^{}]*$`)

func (c *Config) setAccountingDefaults() {
	if c.Limits.RedisFailure == "" {
		c.Limits.RedisFailure = "fail_open"
	}
	if c.Billing.TimeZone == "" {
		c.Billing.TimeZone = "UTC"
	}
	if c.Billing.SpillDir == "" {
		c.Billing.SpillDir = defaultSpillDir(c.DatabaseURL)
	}
}

// defaultSpillDir puts the spill directory beside a SQLite database file, so that
// each database has its own; a shared database gets ./tollgate-spill.
func defaultSpillDir(databaseURL string) string {
	path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "sqlite:")
	if strings.Contains(databaseURL, "://") && !strings.HasPrefix(databaseURL, "sqlite://") || path == "" {
		return "./tollgate-spill"
	}
	return path + "-spill"
}

// Location returns the billing time zone.
func (b Billing) Location() (*time.Location, error) { return time.LoadLocation(b.TimeZone) }

func (v *validator) accounting() {
	c := v.c
	if c.Limits.RedisFailure != "fail_open" && c.Limits.RedisFailure != "fail_closed" {
		v.add("limits.redis_failure", "%q is not one of fail_open, fail_closed", c.Limits.RedisFailure)
	}
	v.duration("limits.redis_timeout", c.Limits.RedisTimeout)
	if _, err := c.Billing.Location(); err != nil {
		v.add("billing.time_zone", "%q is not an IANA time zone", c.Billing.TimeZone)
	}
	v.duration("billing.retention", c.Billing.Retention)
	if p := c.Billing.RedisPrefix; p != "" && !hashTag.MatchString(p) {
		v.add("billing.redis_prefix", "%q must hold one {hash tag}, such as \"tollgate:{budget}:\"", p)
	}
	if len(c.Billing.AlertWebhooks) > 0 && c.Billing.AlertSecret.IsZero() {
		v.add("billing.alert_secret", "alert webhooks need a signing secret, e.g. \"env:TOLLGATE_ALERT_SECRET\"")
	}
	for i, m := range c.Models {
		if l := m.Limits; l != nil && (l.RPM < 0 || l.TPM < 0 || l.MaxParallel < 0) {
			v.add(fmt.Sprintf("models[%d].limits", i), "values must not be negative")
		}
	}
}
