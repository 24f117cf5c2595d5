package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/schema"
)

// replay answers with a recorded Azure stream, flushing after every event.
func replay(t *testing.T, name string) http.HandlerFunc {
	sse := readTestdata(t, name)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range strings.SplitAfter(string(sse), "\n\n") {
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	}
}

// drain reads a stream to its end.
func drain(t *testing.T, s schema.Stream) ([]string, error) {
	t.Helper()
	var chunks []string
	for {
		b, err := s.Next()
		if err != nil {
			return chunks, err
		}
		if !gjson.ValidBytes(b) {
			t.Errorf("chunk is not JSON: %s", b)
		}
		chunks = append(chunks, string(b))
	}
}

// TestStreamGolden replays recorded Azure streams: the prompt-filter opening chunk and
// the asynchronous-filter annotations are withheld, everything else passes through, and
// the usage is captured either way.
func TestStreamGolden(t *testing.T) {
	tests := []struct {
		file   string
		usage  schema.Usage
		finish string
	}{
		{"azure_text.sse", schema.Usage{PromptTokens: 1290, CompletionTokens: 3, TotalTokens: 1293, CachedTokens: 1152}, "stop"},
		{"azure_async_filter.sse", schema.Usage{PromptTokens: 21, CompletionTokens: 4, TotalTokens: 25}, "stop"},
		{"azure_tools.sse", schema.Usage{PromptTokens: 81, CompletionTokens: 16, TotalTokens: 97}, "tool_calls"},
		{"azure_filtered.sse", schema.Usage{PromptTokens: 14, CompletionTokens: 2, TotalTokens: 16}, "content_filter"},
	}
	for _, tt := range tests {
		for _, include := range []bool{true, false} {
			mode := map[bool]string{true: "usage", false: "nousage"}[include]
			t.Run(tt.file+"/"+mode, func(t *testing.T) {
				srv, _ := upstream(t, replay(t, tt.file))
				s, err := newProvider(t, srv.URL, "", nil).Stream(context.Background(),
					call(schema.EndpointChat, `{"model":"my-route","stream":true,"messages":[{"role":"user","content":"hi"}]}`, include))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				chunks, err := drain(t, s)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("stream ended with %v", err)
				}
				if u, ok := s.Usage(); u != tt.usage || !ok {
					t.Errorf("usage %+v %v, want %+v", u, ok, tt.usage)
				}
				checkOpenAIFraming(t, chunks, include, tt.finish)
				golden(t, strings.TrimSuffix(tt.file, ".sse")+"."+mode+".golden", strings.Join(chunks, "\n")+"\n")
			})
		}
	}
}

// checkOpenAIFraming checks what OpenAI would have sent: every chunk has an id and a
// delta in each choice, the first opens with the assistant role, and only the usage
// chunk (when asked for) has no choices.
func checkOpenAIFraming(t *testing.T, chunks []string, include bool, finish string) {
	t.Helper()
	if len(chunks) == 0 || gjson.Get(chunks[0], "choices.0.delta.role").Str != "assistant" {
		t.Fatalf("the stream does not open with the assistant role: %q", chunks)
	}
	gotFinish, usageChunks := "", 0
	for _, c := range chunks {
		doc := gjson.Parse(c)
		if doc.Get("id").Str == "" || doc.Get("object").Str != "chat.completion.chunk" {
			t.Errorf("chunk without OpenAI's envelope: %s", c)
		}
		choices := doc.Get("choices").Array()
		if len(choices) == 0 {
			usageChunks++
			if !doc.Get("usage").IsObject() {
				t.Errorf("chunk with no choices and no usage: %s", c)
			}
		}
		for _, ch := range choices {
			if !ch.Get("delta").Exists() {
				t.Errorf("choice without delta: %s", c)
			}
			if f := ch.Get("finish_reason"); f.Type == gjson.String {
				gotFinish = f.Str
			}
		}
	}
	if want := map[bool]int{true: 1, false: 0}[include]; usageChunks != want {
		t.Errorf("%d usage chunks, want %d", usageChunks, want)
	}
	if gotFinish != finish {
		t.Errorf("finish_reason %q, want %q", gotFinish, finish)
	}
}

// TestGoOpenAIReadsTranslatedStreams serves each translated stream to go-openai's
// stream parser, which must rebuild the answer and the tool call.
func TestGoOpenAIReadsTranslatedStreams(t *testing.T) {
	tests := []struct{ file, content, args string }{
		{"azure_text.sse", "Hello there!", ""},
		{"azure_async_filter.sse", "Color is light.", ""},
		{"azure_tools.sse", "", `{"city": "Paris"}`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			srv, _ := upstream(t, replay(t, tt.file))
			s, err := newProvider(t, srv.URL, "", nil).Stream(context.Background(),
				call(schema.EndpointChat, `{"model":"my-route","stream":true,"messages":[{"role":"user","content":"hi"}]}`, true))
			if err != nil {
				t.Fatal(err)
			}
			chunks, _ := drain(t, s)
			content, args, first := readWithGoOpenAI(t, chunks)
			if content != tt.content || args != tt.args {
				t.Errorf("go-openai rebuilt content %q args %q, want %q %q", content, args, tt.content, tt.args)
			}
			if len(first.Choices) == 0 {
				t.Error("go-openai's first chunk has no choices: code reading Choices[0] would panic")
			}
		})
	}
}

// readWithGoOpenAI serves chunks as an OpenAI SSE stream and reads them with go-openai.
func readWithGoOpenAI(t *testing.T, chunks []string) (content, args string, first goopenai.ChatCompletionStreamResponse) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range chunks {
			fmt.Fprintf(w, "data: %s\n\n", c)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()
	cfg := goopenai.DefaultConfig("tollgate-key")
	cfg.BaseURL = srv.URL + "/v1"
	st, err := goopenai.NewClientWithConfig(cfg).CreateChatCompletionStream(context.Background(),
		goopenai.ChatCompletionRequest{Model: "my-route", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := 0; ; i++ {
		resp, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return content, args, first
		}
		if err != nil {
			t.Fatalf("go-openai rejected chunk %d: %v", i, err)
		}
		if i == 0 {
			first = resp
		}
		for _, ch := range resp.Choices {
			content += ch.Delta.Content
			for _, tc := range ch.Delta.ToolCalls {
				args += tc.Function.Arguments
			}
		}
	}
}

func TestDropChunk(t *testing.T) {
	tests := []struct {
		name  string
		chunk string
		drop  bool
	}{
		{"prompt filter opening", `{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0}]}`, true},
		{"2023 prompt annotations", `{"id":"","object":"","created":0,"model":"","prompt_annotations":[{"prompt_index":0}],"choices":[],"usage":null}`, true},
		{"async filter annotation", `{"choices":[{"content_filter_offsets":{"check_offset":1},"content_filter_results":{},"finish_reason":null,"index":0}],"id":""}`, true},
		{"content chunk with results", `{"choices":[{"content_filter_results":{},"delta":{"content":"x"},"finish_reason":null,"index":0}],"id":"c"}`, false},
		{"finish without delta", `{"choices":[{"content_filter_results":{},"finish_reason":"stop","index":0}],"id":"c"}`, false},
		{"usage chunk", `{"choices":[],"id":"c","usage":{"prompt_tokens":1},"prompt_filter_results":[]}`, false},
		{"plain OpenAI chunk", `{"choices":[{"delta":{"content":"x"},"index":0}],"id":"c"}`, false},
		{"not JSON", `{"choices":[],"prompt_filter_results"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dropChunk([]byte(tt.chunk)); got != tt.drop {
				t.Errorf("dropChunk = %v, want %v", got, tt.drop)
			}
		})
	}
}
