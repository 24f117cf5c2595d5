package tokens

import "testing"

func TestEncodingFor(t *testing.T) {
	for model, want := range map[string]string{
		"gpt-4o-mini": "o200k_base", "openai/gpt-5": "o200k_base", "o3-mini": "o200k_base",
		"groq/openai/gpt-oss-120b": "o200k_base", "gpt-4": "cl100k_base", "claude-sonnet-4-5": "cl100k_base",
	} {
		if got := EncodingFor(model); got != want {
			t.Errorf("%s: %s, want %s", model, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	// "Hello, world!" is four tokens in both encodings: Hello , world !
	for _, m := range []string{"gpt-4o", "gpt-4"} {
		if n := Count(m, "Hello, world!"); n != 4 {
			t.Errorf("%s: %d tokens", m, n)
		}
	}
	if Count("gpt-4o", "") != 0 {
		t.Error("empty text has tokens")
	}
}
