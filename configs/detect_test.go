package configs

import (
	"slices"
	"testing"

	"github.com/tollgate-llm/tollgate/providers/registry"
)

func allKnown(string) bool { return true }

func TestDetect(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		known     func(string) bool
		providers []string
		keys      []string
		model     string
	}{
		{"nothing set", nil, allKnown, nil, nil, ""},
		{"openai", map[string]string{"OPENAI_API_KEY": "x"}, allKnown,
			[]string{"openai"}, []string{"env:OPENAI_API_KEY"}, "gpt-4o-mini"},
		{"empty value ignored", map[string]string{"OPENAI_API_KEY": ""}, allKnown, nil, nil, ""},
		{"several in table order", map[string]string{"GROQ_API_KEY": "x", "OPENAI_API_KEY": "y", "DEEPSEEK_API_KEY": "z"},
			allKnown, []string{"openai", "groq", "deepseek"},
			[]string{"env:OPENAI_API_KEY", "env:GROQ_API_KEY", "env:DEEPSEEK_API_KEY"}, "deepseek-reasoner"},
		{"gemini alias", map[string]string{"GOOGLE_API_KEY": "x"}, allKnown,
			[]string{"gemini"}, []string{"env:GOOGLE_API_KEY"}, "gemini-2.5-flash"},
		{"gemini preferred", map[string]string{"GOOGLE_API_KEY": "x", "GEMINI_API_KEY": "y"}, allKnown,
			[]string{"gemini"}, []string{"env:GEMINI_API_KEY"}, ""},
		{"perplexity alias", map[string]string{"PPLX_API_KEY": "x"}, allKnown,
			[]string{"perplexity"}, []string{"env:PPLX_API_KEY"}, "sonar"},
		{"unknown types skipped", map[string]string{"ANTHROPIC_API_KEY": "x", "OPENAI_API_KEY": "y"},
			func(t string) bool { return t == "openai" }, []string{"openai"}, []string{"env:OPENAI_API_KEY"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			provs, models := detect(fakeEnv(tt.env), tt.known)
			var names, keys []string
			for _, p := range provs {
				names = append(names, p.Name)
				if p.Type != p.Name || len(p.Keys) != 1 {
					t.Errorf("provider %v", p)
				}
				keys = append(keys, p.Keys[0].Secret.String())
			}
			if !slices.Equal(names, tt.providers) || !slices.Equal(keys, tt.keys) {
				t.Errorf("got %v %v, want %v %v", names, keys, tt.providers, tt.keys)
			}
			if tt.model != "" && !slices.ContainsFunc(models, func(m Model) bool { return m.Name == tt.model }) {
				t.Errorf("model %s not detected", tt.model)
			}
			for _, m := range models {
				if len(m.Targets) != 1 || m.Targets[0].Model != m.Name || !slices.Contains(names, m.Targets[0].Provider) {
					t.Errorf("model %+v", m)
				}
			}
		})
	}
}

func TestDetectUsesRegistry(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "y"}
	provs, _ := DetectProviders(fakeEnv(env))
	got := map[string]bool{}
	for _, p := range provs {
		got[p.Type] = true
	}
	for _, typ := range []string{"openai", "anthropic"} {
		if got[typ] != registry.Known(typ) {
			t.Errorf("%s detected = %v, registry.Known = %v", typ, got[typ], registry.Known(typ))
		}
	}
}

func TestLoadDetection(t *testing.T) {
	env := fakeEnv(map[string]string{"OPENAI_API_KEY": "sk-test"})
	t.Run("no providers in file", func(t *testing.T) {
		path := writeConfig(t, "models:\n  - {name: gpt-4o, targets: [{provider: openai, model: gpt-4o-2024-11-20}]}\n")
		c, err := LoadWith(path, env)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Providers) != 1 || c.Providers[0].Name != "openai" {
			t.Fatalf("providers = %v", c.Providers)
		}
		if c.Models[0].Targets[0].Model != "gpt-4o-2024-11-20" {
			t.Error("file model replaced by a detected one")
		}
		src, _ := c.locate("providers[0].keys[0].secret")
		if src != "environment" {
			t.Errorf("detected provider source = %q", src)
		}
	})
	t.Run("providers in file", func(t *testing.T) {
		c, err := LoadWith(writeConfig(t, validBase), env)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Providers) != 1 || len(c.Models) != 1 {
			t.Errorf("detection ran although the file has providers: %v", c)
		}
	})
}
