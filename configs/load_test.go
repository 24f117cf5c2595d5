package configs

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const minimalYAML = `
providers:
  - name: openai
    type: openai
    keys: [{secret: env:OPENAI_API_KEY}]
models:
  - name: gpt-4o
    targets: [{provider: openai}]
`

func TestLoadNoFileUsesDefaults(t *testing.T) {
	c, err := LoadWith("", fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, DefaultListen},
		{"database_url", c.DatabaseURL, DefaultDatabaseURL},
		{"redis_url", c.RedisURL, ""},
		{"max_body_bytes", c.MaxBodyBytes, int64(10 << 20)},
		{"request_timeout", c.RequestTimeout.Std(), 10 * time.Minute},
		{"shutdown_timeout", c.ShutdownTimeout.Std(), 30 * time.Second},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "json"},
		{"providers", len(c.Providers), 0},
		{"file", c.File, ""},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
}

func TestLoadDefaultsInsideModels(t *testing.T) {
	path := writeConfig(t, minimalYAML+`
  - name: pinned
    retries: 0
    targets: [{provider: openai, model: gpt-4o-2024-08-06, weight: 3}]
`)
	c, err := LoadWith(path, fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, m, pinned := c.Providers[0], c.Models[0], c.Models[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"provider base_url stays empty", p.BaseURL, ""},
		{"key weight", p.Keys[0].Weight, 1},
		{"strategy", m.Strategy, StrategyWeighted},
		{"retries", *m.Retries, DefaultRetries},
		{"explicit zero retries", *pinned.Retries, 0},
		{"target weight", m.Targets[0].Weight, 1},
		{"explicit target weight", pinned.Targets[0].Weight, 3},
		{"target model defaults to route name", m.Targets[0].Model, "gpt-4o"},
		{"explicit target model", pinned.Targets[0].Model, "gpt-4o-2024-08-06"},
		{"file", c.File, path},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
}

func TestLoadEnvOverridesFile(t *testing.T) {
	path := writeConfig(t, `
listen: 0.0.0.0:9000
database_url: sqlite:./file.db
redis_url: redis://file:6379/0
`)
	tests := []struct {
		name                    string
		env                     map[string]string
		listen, database, redis string
	}{
		{"file only", nil, "0.0.0.0:9000", "sqlite:./file.db", "redis://file:6379/0"},
		{"env wins", map[string]string{
			EnvListen:      "127.0.0.1:7000",
			EnvDatabaseURL: "postgres://tg:pw@db:5432/tollgate",
			EnvRedisURL:    "rediss://:pw@cache:6380/1",
		}, "127.0.0.1:7000", "postgres://tg:pw@db:5432/tollgate", "rediss://:pw@cache:6380/1"},
		{"empty env ignored", map[string]string{EnvListen: ""}, "0.0.0.0:9000", "sqlite:./file.db", "redis://file:6379/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadWith(path, fakeEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Listen != tt.listen || c.DatabaseURL != tt.database || c.RedisURL != tt.redis {
				t.Errorf("got %q %q %q", c.Listen, c.DatabaseURL, c.RedisURL)
			}
		})
	}
}

func TestLoadEnvErrorNamesEnvironment(t *testing.T) {
	_, err := LoadWith("", fakeEnv(map[string]string{EnvListen: "nonsense"}))
	fe := findField(err, "listen")
	if fe == nil {
		t.Fatalf("no error for listen in %v", err)
	}
	if !strings.Contains(fe.Error(), "environment (TOLLGATE_LISTEN)") {
		t.Errorf("error %q does not name the variable", fe)
	}
}

func TestLoadRefusesLiteralSecret(t *testing.T) {
	tests := []struct {
		name, yaml, path, wantHint string
	}{
		{"openai", `
providers:
  - name: openai
    type: openai
    keys: [{secret: ` + literalKey + `}]
`, "providers[0].keys[0].secret", `use "env:OPENAI_API_KEY" or "file:/run/secrets/openai"`},
		{"custom name, second key", `
providers:
  - name: my-llm
    type: openai
    keys:
      - secret: env:MY_LLM_API_KEY
      - secret: "` + literalKey + `"
`, "providers[0].keys[1].secret", `use "env:OPENAI_API_KEY" or "file:/run/secrets/my_llm"`},
		{"number", `
providers:
  - {name: openai, type: openai, keys: [{secret: 123456789012345}]}
`, "providers[0].keys[0].secret", `"env:OPENAI_API_KEY"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.yaml)
			_, err := LoadWith(path, fakeEnv(nil))
			if err == nil {
				t.Fatal("literal secret accepted")
			}
			msg := err.Error()
			for _, want := range []string{path, tt.path, "literal secrets are not allowed in config", tt.wantHint} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, literalKey) || strings.Contains(msg, "123456789012345") {
				t.Errorf("error leaks the secret: %q", msg)
			}
		})
	}
}

func TestLoadStrictYAML(t *testing.T) {
	tests := []struct {
		name, yaml, path, want string
		line                   int
	}{
		{"unknown top-level field", "listen: :8080\nlisten_addr: :9090\n", "listen_addr", "unknown field", 2},
		{"typo in provider", "providers:\n  - name: a\n    type: openai\n    bsae_url: http://x\n",
			"providers[0].bsae_url", `did you mean "base_url"?`, 4},
		{"api_key in provider", "providers:\n  - name: a\n    type: openai\n    api_key: " + literalKey + "\n",
			"providers[0].api_key", "credentials go in keys", 4},
		{"unknown in target", "models:\n  - name: m\n    targets:\n      - {provider: a, wieght: 2}\n",
			"models[0].targets[0].wieght", `did you mean "weight"?`, 4},
		{"string for int", "models:\n  - name: m\n    targets: [{provider: a, weight: " + literalKey + "}]\n",
			"models[0].targets[0].weight", "expected an integer", 3},
		{"scalar for list", "providers:\n  - name: a\n    keys: " + literalKey + "\n",
			"providers[0].keys", "expected a list", 3},
		{"scalar for struct", "providers:\n  - name: a\n    keys: [" + literalKey + "]\n",
			"providers[0].keys[0]", "expected a mapping", 3},
		{"bad duration", "request_timeout: 30\n", "request_timeout", "unit", 1},
		{"demo is not yaml", "demo: true\n", "demo", "unknown field", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.yaml)
			_, err := LoadWith(path, fakeEnv(nil))
			fe := findField(err, tt.path)
			if fe == nil {
				t.Fatalf("no error for %s in %v", tt.path, err)
			}
			if fe.Source != path || fe.Line != tt.line || !strings.Contains(fe.Msg, tt.want) {
				t.Errorf("got %q (line %d), want %s:%d ... %q", fe, fe.Line, path, tt.line, tt.want)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%s:%d: %s", path, tt.line, tt.path)) {
				t.Errorf("error %q does not name file, line and field", err)
			}
			if strings.Contains(err.Error(), literalKey) {
				t.Errorf("error leaks a value: %q", err)
			}
		})
	}
}

func TestLoadFileProblems(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"two documents", "listen: :1\n---\nlisten: :2\n", "only one YAML document"},
		{"syntax", "listen: [\n", "tollgate.yaml"},
		{"top level list", "- a\n", "expected a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadWith(writeConfig(t, tt.yaml), fakeEnv(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := LoadWith("/nonexistent/tollgate.yaml", fakeEnv(nil)); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := LoadWith(writeConfig(t, "# only a comment\n"), fakeEnv(nil)); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestLoadKeepsPricingAsWritten(t *testing.T) {
	path := writeConfig(t, minimalYAML+`    pricing: {input_per_mtok: 2.50, output_per_mtok: "10", cached_input_per_mtok: 0.000001}
`)
	c, err := LoadWith(path, fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Models[0].Pricing
	if p.InputPerMTok != "2.50" || p.OutputPerMTok != "10" || p.CachedInputPerMTok != "0.000001" {
		t.Errorf("pricing = %+v", *p)
	}
}

func TestResolvePath(t *testing.T) {
	env := fakeEnv(map[string]string{EnvConfig: "/etc/tollgate.yaml"})
	tests := []struct {
		flag string
		env  func(string) string
		want string
	}{
		{"./flag.yaml", env, "./flag.yaml"},
		{"", env, "/etc/tollgate.yaml"},
		{"", fakeEnv(nil), ""},
		{"", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.flag+"->"+tt.want, func(t *testing.T) {
			if got := ResolvePath(tt.flag, tt.env); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
