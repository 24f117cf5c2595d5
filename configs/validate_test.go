package configs

import (
	"strings"
	"testing"
)

// validBase is a valid config that each case below breaks in one place.
const validBase = `
providers:
  - name: openai
    type: openai
    keys: [{secret: env:OPENAI_API_KEY}]
models:
  - name: gpt-4o
    targets: [{provider: openai, model: gpt-4o}]
`

func TestValidateNamesFieldAndFile(t *testing.T) {
	tests := []struct {
		name, yaml, path, want string
	}{
		{"listen", "listen: localhost\n", "listen", "host:port"},
		{"listen port", "listen: localhost:99999\n", "listen", "0 to 65535"},
		{"database scheme", "database_url: mysql://u@h/db\n", "database_url", `unsupported scheme "mysql"`},
		{"database password", "database_url: postgres://tg:hunter2@db/tg\n", "database_url", "TOLLGATE_DATABASE_URL"},
		{"database dsn", "database_url: host=db password=hunter2\n", "database_url", "key=value DSN"},
		{"redis scheme", "redis_url: http://cache\n", "redis_url", "redis://"},
		{"redis password", "redis_url: redis://:hunter2@cache:6379\n", "redis_url", "TOLLGATE_REDIS_URL"},
		{"max body", "max_body_bytes: -1\n", "max_body_bytes", "negative"},
		{"timeout", "request_timeout: -1s\n", "request_timeout", "negative"},
		{"proxies", "trusted_proxies: [10.0.0.0/8, nope]\n", "trusted_proxies[1]", "CIDR"},
		{"log level", "log: {level: loud}\n", "log.level", "debug, info"},
		{"provider name", "providers: [{type: openai}]\n", "providers[0].name", "required"},
		{"provider name chars", "providers: [{name: a/b, type: openai}]\n", "providers[0].name", "letters"},
		{"provider dup", "providers: [{name: a, type: openai}, {name: a, type: openai}]\n", "providers[1].name", "duplicate"},
		{"provider type", "providers: [{name: a, type: nope}]\n", "providers[0].type", `unknown provider type "nope"`},
		{"provider no type", "providers: [{name: a}]\n", "providers[0].type", "required"},
		{"base url", "providers: [{name: a, type: openai, base_url: api.example.com}]\n", "providers[0].base_url", "absolute"},
		{"base url creds", "providers: [{name: a, type: openai, base_url: 'https://u:hunter2@x'}]\n", "providers[0].base_url", "credentials"},
		{"auth header", "providers: [{name: a, type: openai, headers: {Authorization: Bearer hunter2}}]\n",
			"providers[0].headers.Authorization", "credentials"},
		{"missing secret", "providers: [{name: a, type: openai, keys: [{label: x}]}]\n", "providers[0].keys[0].secret", "required"},
		{"bad env ref", "providers: [{name: a, type: openai, keys: [{secret: 'env:bad-name'}]}]\n", "providers[0].keys[0].secret", "variable name"},
		{"key weight", "providers: [{name: a, type: openai, keys: [{secret: env:A, weight: -1}]}]\n", "providers[0].keys[0].weight", "negative"},
		{"provider timeout", "providers: [{name: a, type: openai, timeout: -5s}]\n", "providers[0].timeout", "negative"},
		{"model name", "models: [{targets: [{provider: openai}]}]\n", "models[0].name", "required"},
		{"model dup", validBase + "  - {name: gpt-4o, targets: [{provider: openai}]}\n", "models[1].name", "duplicate"},
		{"strategy", "models: [{name: m, strategy: random, targets: [{provider: openai}]}]\n", "models[0].strategy", "weighted"},
		{"no targets", "models: [{name: m}]\n", "models[0].targets", "at least one"},
		{"target provider", validBase + "  - {name: m, targets: [{provider: openai}, {provider: nope}]}\n",
			"models[1].targets[1].provider", `unknown provider "nope"`},
		{"target weight", "models: [{name: m, targets: [{provider: openai, weight: -2}]}]\n", "models[0].targets[0].weight", "negative"},
		{"target priority", "models: [{name: m, targets: [{provider: openai, priority: -1}]}]\n", "models[0].targets[0].priority", "negative"},
		{"fallback unknown", "models: [{name: m, fallbacks: [nope], targets: [{provider: openai}]}]\n", "models[0].fallbacks[0]", `unknown model "nope"`},
		{"fallback self", "models: [{name: m, fallbacks: [m], targets: [{provider: openai}]}]\n", "models[0].fallbacks[0]", "itself"},
		{"model timeout", "models: [{name: m, timeout: -1s, targets: [{provider: openai}]}]\n", "models[0].timeout", "negative"},
		{"retries", "models: [{name: m, retries: -1, targets: [{provider: openai}]}]\n", "models[0].retries", "negative"},
		{"stream idle", "routing: {stream_idle_timeout: -1s}\n", "routing.stream_idle_timeout", "negative"},
		{"breaker ratio", "routing: {breaker: {failure_ratio: 1.5}}\n", "routing.breaker.failure_ratio", "ratio"},
		{"breaker failures", "routing: {breaker: {consecutive_failures: -1}}\n", "routing.breaker.consecutive_failures", "count"},
		{"breaker open", "routing: {breaker: {open_timeout: -1s}}\n", "routing.breaker.open_timeout", "negative"},
		{"pricing", "models: [{name: m, pricing: {input_per_mtok: -1}, targets: [{provider: openai}]}]\n",
			"models[0].pricing.input_per_mtok", "decimal"},
		{"target pricing", "models: [{name: m, targets: [{provider: openai, pricing: {output_per_mtok: 1e-6}}]}]\n",
			"models[0].targets[0].pricing.output_per_mtok", "decimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.yaml
			if !strings.Contains(body, "providers:") {
				body = validBase[:strings.Index(validBase, "models:")] + body
			}
			path := writeConfig(t, body)
			_, err := LoadWith(path, fakeEnv(nil))
			fe := findField(err, tt.path)
			if fe == nil {
				t.Fatalf("no error for %s in:\n%v", tt.path, err)
			}
			if fe.Source != path || fe.Line == 0 || !strings.Contains(fe.Msg, tt.want) {
				t.Errorf("got %q, want source %s, a line and %q", fe, path, tt.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.path+": ") {
				t.Errorf("joined error %q does not name the file and field", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}

func TestValidateCollectsAllErrors(t *testing.T) {
	path := writeConfig(t, `
listen: nope
providers: [{name: "", type: nope}]
models: [{name: m, strategy: x, targets: [{provider: y}], fallbacks: [z]}]
`)
	_, err := LoadWith(path, fakeEnv(nil))
	want := []string{"listen", "providers[0].name", "providers[0].type", "models[0].strategy",
		"models[0].targets[0].provider", "models[0].fallbacks[0]"}
	for _, p := range want {
		if findField(err, p) == nil {
			t.Errorf("no error for %s in:\n%v", p, err)
		}
	}
}

func TestValidateSourceWithoutFile(t *testing.T) {
	c := &Config{Listen: "bad", Models: []Model{{Name: "m", Targets: []Target{{Provider: "p"}}}}}
	c.SetDefaults()
	err := c.Validate()
	for _, p := range []string{"listen", "models[0].targets[0].provider"} {
		fe := findField(err, p)
		if fe == nil || fe.Source != "defaults" || !strings.HasPrefix(fe.Error(), "defaults: "+p+": ") {
			t.Errorf("%s: got %v, want a defaults error", p, fe)
		}
	}
}

func TestValidateAcceptsDatabaseForms(t *testing.T) {
	for _, u := range []string{"./tollgate.db", "/var/lib/tollgate/tg.db", "sqlite:./tollgate.db",
		"sqlite:///var/lib/tg.db", "postgres://tg@db:5432/tollgate?sslmode=require", "postgresql://db/tg"} {
		t.Run(u, func(t *testing.T) {
			c := &Config{DatabaseURL: u}
			c.SetDefaults()
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
