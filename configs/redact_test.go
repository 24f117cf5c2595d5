package configs

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRedactedPrinting(t *testing.T) {
	c := Config{
		Listen:      ":8080",
		DatabaseURL: "postgres://tg:hunter2@db:5432/tollgate?password=hunter2",
		RedisURL:    "rediss://:hunter2@cache:6380/0",
		Providers: []Provider{{
			Name:    "openai",
			Type:    "openai",
			BaseURL: "https://proxy.example.com/v1",
			Headers: map[string]string{"X-Org-Token": "hunter2"},
			Keys:    []ProviderKey{{Secret: EnvRef("OPENAI_API_KEY"), Label: "main", Weight: 1}},
		}},
	}
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("c", "config", c, "provider", c.Providers[0], "key", c.Providers[0].Keys[0])
	slog.New(slog.NewJSONHandler(&js, nil)).Info("c", "config", c)
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", c),
		"%+v":       fmt.Sprintf("%+v", c),
		"%#v":       fmt.Sprintf("%#v", c),
		"pointer":   fmt.Sprintf("%v", &c),
		"provider":  fmt.Sprintf("%+v %#v", c.Providers[0], c.Providers),
		"slog text": text.String(),
		"slog json": js.String(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, "hunter2") {
				t.Errorf("secret printed: %s", out)
			}
			if !strings.Contains(out, "env:OPENAI_API_KEY") {
				t.Errorf("key reference missing: %s", out)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"./tollgate.db", "./tollgate.db"},
		{"sqlite:./tollgate.db", "sqlite:./tollgate.db"},
		{"postgres://tg:pw@db/x", "postgres://tg:xxxxx@db/x"},
		{"postgres://tg@db/x?password=pw&sslmode=require", "postgres://tg@db/x?password=xxxxx&sslmode=require"},
		{"host=db password=pw", "[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
