package telemetry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

const testKey = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"

// secretValuer resolves to a secret, as a careless LogValue might.
type secretValuer struct{}

func (secretValuer) LogValue() slog.Value { return slog.StringValue("key=" + testKey) }

// hidden has the key in an unexported field, which %+v prints and JSON drops.
type hidden struct {
	Name string
	key  string
}

func TestRedactingHandlerCoversEveryPath(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		cases := map[string]func(l *slog.Logger){
			"message":            func(l *slog.Logger) { l.Info("calling with " + testKey) },
			"string attr":        func(l *slog.Logger) { l.Info("x", "detail", "key="+testKey) },
			"error":              func(l *slog.Logger) { l.Info("x", "error", errors.New("401 for "+testKey)) },
			"with":               func(l *slog.Logger) { l.With("k", testKey).Info("x") },
			"with group":         func(l *slog.Logger) { l.WithGroup("g").With("k", testKey).Info("x") },
			"group value":        func(l *slog.Logger) { l.Info("x", slog.Group("g", slog.String("k", testKey))) },
			"nested group":       func(l *slog.Logger) { l.Info("x", slog.Group("a", slog.Group("b", "k", testKey))) },
			"log valuer":         func(l *slog.Logger) { l.Info("x", "v", secretValuer{}) },
			"valuer in group":    func(l *slog.Logger) { l.Info("x", slog.Group("g", slog.Any("v", secretValuer{}))) },
			"bytes":              func(l *slog.Logger) { l.Info("x", "body", []byte(`{"api_key":"`+testKey+`"}`)) },
			"unexported field":   func(l *slog.Logger) { l.Info("x", "v", hidden{Name: "n", key: testKey}) },
			"map":                func(l *slog.Logger) { l.Info("x", "headers", map[string]string{"authorization": "Bearer " + testKey}) },
			"attr key":           func(l *slog.Logger) { l.Info("x", testKey, 1) },
			"group name":         func(l *slog.Logger) { l.WithGroup(testKey).Info("x", "a", 1) },
			"log attrs":          func(l *slog.Logger) { l.LogAttrs(context.Background(), slog.LevelWarn, "x", slog.String("k", testKey)) },
			"handler used apart": func(l *slog.Logger) { slog.New(l.Handler()).Info("x", "k", testKey) },
		}
		for name, logIt := range cases {
			t.Run(format+"/"+name, func(t *testing.T) {
				var buf bytes.Buffer
				logIt(NewLoggerFormat(&buf, slog.LevelDebug, format))
				if strings.Contains(buf.String(), testKey) || strings.Contains(buf.String(), "abcdefghijklmnopqrstuvwxyz0123456789") {
					t.Fatalf("the log holds the key: %s", buf.String())
				}
				if !strings.Contains(buf.String(), "[REDACTED]") {
					t.Fatalf("no redaction marker: %s", buf.String())
				}
			})
		}
	}
}

func TestRedactingHandlerKeepsOrdinaryValues(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(&buf, slog.LevelInfo)
	l.With("service", "tollgate").WithGroup("req").Info("request", "status", 200, "model", "gpt-4o-mini",
		"tags", []string{"a", "b"}, "ok", true)
	out := buf.String()
	for _, want := range []string{`"service":"tollgate"`, `"req":{"status":200`, `"model":"gpt-4o-mini"`,
		`"tags":["a","b"]`, `"ok":true`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
}

func TestRedactingHandlerIsNotWrappedTwice(t *testing.T) {
	h := NewRedactingHandler(slog.DiscardHandler)
	if _, ok := NewRedactingHandler(h).(redactingHandler).inner.(redactingHandler); ok {
		t.Fatal("a redacting handler was wrapped in another")
	}
}

func TestHasSecretNeedsALongRun(t *testing.T) {
	for s, want := range map[string]bool{
		"request_id":                  false,
		"text-embedding-3-small":      false,
		"Bearer abc.def/ghi+jkl=mno~": true,
		"x " + testKey:                true,
		"AKIAIOSFODNN7EXAMPLE":        true,
	} {
		if got := HasSecret(s); got != want {
			t.Errorf("HasSecret(%q) = %v, want %v", s, got, want)
		}
	}
}
