package quota

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tollgate-llm/tollgate/schema"
)

func chatReq(model, body string, maxTokens int64) *schema.Request {
	return &schema.Request{Endpoint: schema.EndpointChat, Model: model, MaxTokens: maxTokens, Body: []byte(body)}
}

// TestEstimateMatchesOpenAI checks the chat count against the prompt_tokens OpenAI's
// cookbook reports for its example conversation: 129 with cl100k_base (gpt-4) and 124
// with o200k_base (gpt-4o).
func TestEstimateMatchesOpenAI(t *testing.T) {
	body, err := os.ReadFile("testdata/cookbook_chat.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		model string
		want  int64
	}{{"gpt-4", 129}, {"gpt-3.5-turbo", 129}, {"gpt-4o", 124}, {"openai/gpt-4o-mini", 124}} {
		t.Run(tt.model, func(t *testing.T) {
			if got := Estimate(chatReq(tt.model, string(body), 0), 0); got != tt.want {
				t.Errorf("Estimate = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestEstimate(t *testing.T) {
	const hello = `{"messages":[{"role":"user","content":"hello world"}]}` // 3+1+2+3 = 9
	tool := `,"tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather",` +
		`"parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	tests := []struct {
		name string
		req  *schema.Request
		def  int64
		want func(got int64) bool
		says string
	}{
		{"chat with max_tokens", chatReq("gpt-4o", hello, 100), 4096, eq(109), "9 + 100"},
		{"chat without max_tokens uses the default", chatReq("gpt-4o", hello, 0), 4096, eq(9 + 4096), "9 + 4096"},
		{"n multiplies the output", chatReq("gpt-4o", strings.TrimSuffix(hello, "}")+`,"n":3}`, 100), 0, eq(309), "9 + 3×100"},
		{"parts count their text and a flat image", chatReq("gpt-4o",
			`{"messages":[{"role":"user","content":[{"type":"text","text":"hello world"},`+
				`{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`, 0), 0, eq(9 + 85), "9 + 85"},
		{"tool definitions count", chatReq("gpt-4o", strings.TrimSuffix(hello, "}")+tool+"}", 0), 0,
			func(n int64) bool { return n > 9+8+10 && n < 9+8+40 }, "9 + 8 + the definition's ~20 tokens"},
		{"tool calls count", chatReq("gpt-4o", `{"messages":[{"role":"assistant","content":null,"tool_calls":`+
			`[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}]}`, 0),
			0, func(n int64) bool { return n > 3+3+1+5 }, "the call's name and arguments"},
		{"completions prompt", &schema.Request{Endpoint: schema.EndpointCompletions, Model: "gpt-3.5-turbo-instruct",
			Body: []byte(`{"prompt":["hello world","hello world"],"max_tokens":7}`), MaxTokens: 7}, 0, eq(4 + 7), "2×2 + 7"},
		{"completions token prompt", &schema.Request{Endpoint: schema.EndpointCompletions, Model: "x",
			Body: []byte(`{"prompt":[1,2,3]}`)}, 16, eq(3 + 16), "3 ids + 16"},
		{"embeddings text, no output", &schema.Request{Endpoint: schema.EndpointEmbeddings, Model: "text-embedding-3-small",
			Body: []byte(`{"input":"hello world"}`)}, 4096, eq(2), "2"},
		{"embeddings batches", &schema.Request{Endpoint: schema.EndpointEmbeddings, Model: "text-embedding-3-small",
			Body: []byte(`{"input":[[1,2,3],[4,5]]}`)}, 4096, eq(5), "5 ids"},
		{"special tokens are text", chatReq("gpt-4", `{"messages":[{"role":"user","content":"<|endoftext|>"}]}`, 0),
			0, func(n int64) bool { return n > 7 }, "counted as ordinary text, without panicking"},
		{"bad JSON counts nothing but the output", chatReq("gpt-4o", `{not json`, 10), 0, eq(3 + 10), "primer + 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Estimate(tt.req, tt.def); !tt.want(got) {
				t.Errorf("Estimate = %d, want %s", got, tt.says)
			}
		})
	}
}

func eq(want int64) func(int64) bool { return func(n int64) bool { return n == want } }

// TestEstimateLongText checks that a long text, counted on samples, stays within 10% of
// its exact count, for prose and for code-like text.
func TestEstimateLongText(t *testing.T) {
	texts := map[string]string{
		"prose": strings.Repeat("It was the best of times, it was the worst of times; the age of wisdom. ", 300),
		"code":  strings.Repeat("func f(x int) error {\n\tif x > 0 {\n\t\treturn fmt.Errorf(\"bad %d\", x)\n\t}\n}\n", 400),
		"utf-8": strings.Repeat("Größenwahn — 東京で会いましょう。 ", 600),
	}
	c := counter{e: encoders["o200k_base"]}
	for name, text := range texts {
		if len(text) <= exactBytes {
			t.Fatalf("%s: %d bytes is not long", name, len(text))
		}
		exact, got := c.exact(text), c.count(text)
		if diff := float64(got-exact) / float64(exact); diff > 0.1 || diff < -0.1 {
			t.Errorf("%s: sampled %d tokens, exact %d", name, got, exact)
		}
	}
}

func TestEncodingFor(t *testing.T) {
	for model, want := range map[string]string{
		"gpt-4o": "o200k_base", "gpt-4o-mini": "o200k_base", "gpt-4.1": "o200k_base", "gpt-5": "o200k_base",
		"o3-mini": "o200k_base", "azure/gpt-4o": "o200k_base", "gpt-4": "cl100k_base", "gpt-3.5-turbo": "cl100k_base",
		"claude-sonnet-4-5": "cl100k_base", "mistral-large": "cl100k_base",
	} {
		if got := EncodingFor(model); got != want {
			t.Errorf("EncodingFor(%q) = %s, want %s", model, got, want)
		}
	}
}

// TestEstimateOffline builds both encodings with the network forbidden (see TestMain:
// the default HTTP transport refuses, proxies point nowhere, the tiktoken cache is empty)
// and checks that they work and that nothing tried to download.
func TestEstimateOffline(t *testing.T) {
	for name, e := range encoders {
		if err := e.tok.Load(); err != nil {
			t.Fatalf("encoding %s: %v", name, err)
		}
		if n := e.tok.Count("hello world"); n != 2 {
			t.Errorf("%s counts %d tokens in \"hello world\", want 2", name, n)
		}
	}
	if n := netAttempts.Load(); n != 0 {
		t.Errorf("%d network requests were attempted", n)
	}
	entries, _ := os.ReadDir(os.Getenv("TIKTOKEN_CACHE_DIR"))
	if len(entries) != 0 {
		t.Errorf("tiktoken wrote %d files to its download cache", len(entries))
	}
}

// benchSeq makes every cold benchmark text new, across runs too (the cache is global).
var benchSeq atomic.Int64

// BenchmarkEstimate measures the estimate of a chat request: "warm" is a conversation
// whose messages were counted before (each turn resends the history), "cold" has a new
// message in every request, "long-cold" a new 18 KB message (counted on samples).
func BenchmarkEstimate(b *testing.B) {
	cookbook, err := os.ReadFile("testdata/cookbook_chat.json")
	if err != nil {
		b.Fatal(err)
	}
	prose := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 400)
	for _, bc := range []struct {
		name string
		body func(i int) string
	}{
		{"warm", func(int) string { return string(cookbook) }},
		{"cold", func(i int) string {
			return strings.Replace(string(cookbook), "This late pivot", "Turn "+strconv.Itoa(i)+": this late pivot", 1)
		}},
		{"long-cold", func(i int) string {
			return `{"messages":[{"role":"user","content":"` + strconv.Itoa(i) + prose + `"}]}`
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			Estimate(chatReq("gpt-4o", bc.body(-1), 256), 0)
			b.SetBytes(int64(len(bc.body(0))))
			b.ReportAllocs()
			for b.Loop() {
				Estimate(chatReq("gpt-4o", bc.body(int(benchSeq.Add(1))), 256), 0)
			}
		})
	}
}
