package openai

import (
	"slices"
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
)

func TestCatalog(t *testing.T) {
	want := map[string]struct {
		base     string
		needsKey bool
	}{
		"mistral":    {"https://api.mistral.ai/v1", true},
		"groq":       {"https://api.groq.com/openai/v1", true},
		"deepseek":   {"https://api.deepseek.com/v1", true},
		"together":   {"https://api.together.xyz/v1", true},
		"fireworks":  {"https://api.fireworks.ai/inference/v1", true},
		"xai":        {"https://api.x.ai/v1", true},
		"openrouter": {"https://openrouter.ai/api/v1", true},
		"perplexity": {"https://api.perplexity.ai", true},
		"cerebras":   {"https://api.cerebras.ai/v1", true},
		"ollama":     {"http://localhost:11434/v1", false},
		"vllm":       {"http://localhost:8000/v1", false},
		"lmstudio":   {"http://localhost:1234/v1", false},
	}
	names := CatalogNames()
	if !slices.IsSorted(names) || len(names) != len(want) || slices.Contains(names, "openai") {
		t.Fatalf("CatalogNames() = %v", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("unexpected catalog entry %q", name)
			}
			if got := DefaultBaseURL(name); got != w.base {
				t.Errorf("DefaultBaseURL = %q, want %q", got, w.base)
			}
			if got := RequiresKey(name); got != w.needsKey {
				t.Errorf("RequiresKey = %v, want %v", got, w.needsKey)
			}
			p, err := New(providers.Config{Name: name, Type: name})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*Client).base; got != w.base {
				t.Errorf("base = %q, want %q", got, w.base)
			}
		})
	}
	if DefaultBaseURL("openai") != "https://api.openai.com/v1" || !RequiresKey("openai") {
		t.Error("openai defaults are wrong")
	}
}

func TestNewBaseURL(t *testing.T) {
	tests := []struct {
		name, typ, base string
		want            string
		wantErr         bool
	}{
		{"catalog default", "openai", "", "https://api.openai.com/v1", false},
		{"trailing slashes trimmed", "vllm", "http://gpu-1:8000/v1//", "http://gpu-1:8000/v1", false},
		{"unknown type with a base URL", "my-compat", "https://llm.internal/v1", "https://llm.internal/v1", false},
		{"unknown type without a base URL", "my-compat", "", "", true},
		{"relative URL", "openai", "/v1", "", true},
		{"other scheme", "openai", "ftp://example.com/v1", "", true},
		{"query would swallow the path", "openai", "https://example.com/v1?x=1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(providers.Config{Name: "p", Type: tt.typ, BaseURL: tt.base})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && p.(*Client).base != tt.want {
				t.Errorf("base = %q, want %q", p.(*Client).base, tt.want)
			}
		})
	}
}

func TestAppendMember(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1}`, `{"a":1,"m":true}`},
		{`{}`, `{"m":true}`},
		{"{ }\n", "{ \"m\":true}\n"},
		{"{\n  \"a\": 1\n}\n", "{\n  \"a\": 1\n,\"m\":true}\n"},
	}
	for _, tt := range tests {
		got, ok := appendMember([]byte(tt.in), `"m":true`)
		if !ok || string(got) != tt.want {
			t.Errorf("appendMember(%q) = %q %v, want %q", tt.in, got, ok, tt.want)
		}
	}
	if _, ok := appendMember([]byte(`[1]`), `"m":true`); ok {
		t.Error("appendMember accepted an array")
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"gpt-4o":                         `"gpt-4o"`,
		"accounts/fireworks/models/x-7b": `"accounts/fireworks/models/x-7b"`,
		`we"ird\`:                        `"we\"ird\\"`,
		"modèle":                         `"modèle"`,
	} {
		if got := string(quote(in)); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
