package configs

import (
	"fmt"
	"net/url"
	"slices"
)

// Export configures the request log export: every client API request, and every admin
// audit event, as one JSON line to stdout, a rotating file or a webhook.
type Export struct {
	// Format is json (the default: the GET /admin/v1/logs fields) or ocsf (OCSF API
	// Activity and Authentication events).
	Format string `yaml:"format"`
	// Stdout writes the lines to standard output (the process log is on stderr).
	Stdout bool `yaml:"stdout"`
	// File writes the lines to a file rotated by size.
	File ExportFile `yaml:"file"`
	// Webhook posts batches of lines as NDJSON.
	Webhook ExportWebhook `yaml:"webhook"`
	// Audit adds the admin audit events to the same sinks; default true.
	Audit *bool `yaml:"audit"`
	// QueueSize bounds the lines waiting per sink (10000); beyond it lines are dropped
	// and counted, never waited for.
	QueueSize int `yaml:"queue_size"`
}

// ExportFile is a size-rotated request log file.
type ExportFile struct {
	// Path is the file; empty means no file.
	Path string `yaml:"path"`
	// MaxSizeMB rotates the file at this size (100); MaxFiles old files are kept (10);
	// MaxAgeDays also deletes older ones (0: by count only); Compress gzips them.
	MaxSizeMB  int  `yaml:"max_size_mb"`
	MaxFiles   int  `yaml:"max_files"`
	MaxAgeDays int  `yaml:"max_age_days"`
	Compress   bool `yaml:"compress"`
}

// ExportWebhook is a collector that receives the request log over HTTP.
type ExportWebhook struct {
	// URL receives the batches; empty means no webhook. It is never logged.
	URL string `yaml:"url"`
	// Secret signs each batch (X-Tollgate-Signature), like budget alerts.
	Secret SecretRef `yaml:"secret"`
	// Headers are sent with each batch, for collectors with tokens of their own
	// (Authorization: env:SPLUNK_HEC_AUTH); values are references like any secret.
	Headers map[string]SecretRef `yaml:"headers"`
}

// Detect configures the per-key anomaly detectors.
type Detect struct {
	// Enabled turns detection on; default true.
	Enabled *bool `yaml:"enabled"`
	// Webhooks receive each finding, signed with WebhookSecret (X-Tollgate-Signature).
	Webhooks      []string  `yaml:"webhooks"`
	WebhookSecret SecretRef `yaml:"webhook_secret"`
}

// AuditExported reports whether audit events go to the export sinks.
func (e Export) AuditExported() bool { return e.Audit == nil || *e.Audit }

// On reports whether the detectors run.
func (d Detect) On() bool { return d.Enabled == nil || *d.Enabled }

func (c *Config) setObservabilityDefaults() {
	if c.Export.Format == "" {
		c.Export.Format = "json"
	}
}

func (v *validator) observability() {
	e := v.c.Export
	if !slices.Contains([]string{"json", "ocsf"}, e.Format) {
		v.add("export.format", "%q is not one of json, ocsf", e.Format)
	}
	f := e.File
	if f.MaxSizeMB < 0 || f.MaxFiles < 0 || f.MaxAgeDays < 0 || e.QueueSize < 0 {
		v.add("export", "sizes, counts and ages must not be negative")
	}
	if e.Webhook.URL != "" {
		v.webhookURL("export.webhook.url", e.Webhook.URL)
		v.ref("export.webhook.secret", e.Webhook.Secret, false)
		for name, r := range e.Webhook.Headers {
			v.ref("export.webhook.headers."+name, r, true)
		}
	}
	d := v.c.Detect
	for i, u := range d.Webhooks {
		v.webhookURL(fmt.Sprintf("detect.webhooks[%d]", i), u)
	}
	v.ref("detect.webhook_secret", d.WebhookSecret, len(d.Webhooks) > 0)
}

// webhookURL checks an http(s) URL without repeating it: it may hold a token.
func (v *validator) webhookURL(path, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(path, "must be an http:// or https:// URL")
	}
}

// ref checks a secret reference: required ones must be set, and none may be a literal.
func (v *validator) ref(path string, r SecretRef, required bool) {
	switch {
	case r.IsZero() && required:
		v.add(path, `is required; use "env:NAME" or "file:PATH"`)
	case !r.IsZero() && r.Kind() == "":
		v.add(path, `%s; use "env:NAME" or "file:PATH"`, r.problem)
	}
}
