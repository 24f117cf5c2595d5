package tokens

import (
	"slices"
	"sync"
	"testing"
)

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

// TestCountConcurrent counts from many goroutines at once, through the shared piece
// cache, and checks every count against a count made alone (run it with -race).
func TestCountConcurrent(t *testing.T) {
	want := make([]int64, len(corpus))
	for i, text := range corpus {
		want[i] = Get(O200K).Count(text)
	}
	Get(O200K).cache.reset()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 3 * len(corpus) {
				i := (k + g*7) % len(corpus)
				if got := Count("gpt-4o", corpus[i]); got != want[i] {
					t.Errorf("%q: %d tokens, %d alone", corpus[i], got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

func TestWarm(t *testing.T) {
	if err := Warm("gpt-4o-mini", "claude-sonnet-4-5"); err != nil {
		t.Fatal(err)
	}
	if err := Warm(); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Encoder{Get(CL100K), Get(O200K)} {
		if e.tab == nil || e.Count("hello world") != 2 {
			t.Errorf("%s is not ready after Warm", e.Name())
		}
	}
	for _, tt := range []struct {
		models []string
		want   []*Encoder
	}{
		{[]string{"gpt-4o", "openai/gpt-5-mini"}, []*Encoder{o200k}},
		{[]string{"claude-sonnet-4-5", "gpt-4"}, []*Encoder{cl100k}},
		{[]string{"gpt-4.1", "mistral-large"}, []*Encoder{o200k, cl100k}},
		{nil, []*Encoder{o200k, cl100k}},
	} {
		if got := needed(tt.models); !slices.Equal(got, tt.want) {
			t.Errorf("%q need %d encodings, want %d", tt.models, len(got), len(tt.want))
		}
	}
	if Get("p50k_base") != Get(CL100K) {
		t.Error("an unknown encoding does not fall back to cl100k_base")
	}
}
