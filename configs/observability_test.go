package configs

import (
	"strings"
	"testing"
)

func TestObservabilitySections(t *testing.T) {
	for name, c := range map[string]struct {
		yaml string
		errs []string
	}{
		"valid": {yaml: `
export:
  format: ocsf
  file: {path: /tmp/r.jsonl, max_files: 3}
  webhook: {url: "https://siem.example/x", secret: env:EXP_SECRET, headers: {Authorization: env:SIEM_AUTH}}
detect:
  enabled: false
  webhooks: ["https://alerts.example/x"]
  webhook_secret: file:/run/secrets/detect
`},
		"bad": {yaml: `
export:
  format: cef
  file: {max_files: -1}
  webhook: {url: "ftp://x", secret: "literal-secret-value", headers: {Authorization: "Splunk abc"}}
detect:
  webhooks: ["not a url"]
`, errs: []string{"export.format", "export:", "export.webhook.url", "export.webhook.secret",
			"export.webhook.headers.Authorization", "detect.webhooks[0]", "detect.webhook_secret"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadWith(writeConfig(t, c.yaml), fakeEnv(nil))
			if len(c.errs) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Export.Webhook.Headers["Authorization"].Name() != "SIEM_AUTH" || cfg.Detect.On() ||
					!cfg.Export.AuditExported() {
					t.Errorf("decoded %+v %+v", cfg.Export, cfg.Detect)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, e := range c.errs {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("no error about %s in: %v", e, err)
				}
			}
			if strings.Contains(err.Error(), "literal-secret-value") || strings.Contains(err.Error(), "Splunk abc") {
				t.Errorf("the error repeats a secret: %v", err)
			}
		})
	}
}
