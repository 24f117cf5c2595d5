package providertest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
)

// goOpenAIStream: the official-style Go SDK's stream parser accepts the translated
// streams (text, and tool-call deltas) and folds them to the same answer.
func (s *suite) goOpenAIStream() {
	text := s.stream(textFields(), nil, true)
	replayThroughGoOpenAI(s.t, "text", text)
	tools := s.stream(turn1("auto"), nil, true)
	replayThroughGoOpenAI(s.t, "tools", tools)
	plain := s.stream(textFields(), nil, false)
	replayThroughGoOpenAI(s.t, "text without usage", plain)
}

// replayThroughGoOpenAI serves the chunks as OpenAI's SSE and reads them with go-openai.
func replayThroughGoOpenAI(t testing.TB, what string, st *streamed) {
	t.Helper()
	srv := serveChunks(st.raw)
	defer srv.Close()
	cfg := goopenai.DefaultConfig("sk-replay")
	cfg.BaseURL = srv.URL + "/v1"
	stream, err := goopenai.NewClientWithConfig(cfg).CreateChatCompletionStream(t.Context(), goopenai.ChatCompletionRequest{
		Model: "client-route", Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: userText}},
	})
	if err != nil {
		t.Fatalf("%s: go-openai: %v", what, err)
	}
	defer stream.Close()
	got, err := readGoOpenAI(stream)
	if err != nil {
		t.Fatalf("%s: go-openai rejected the stream: %v", what, err)
	}
	if got.content != st.content || got.finish != st.finish || len(got.calls) != len(st.toolCalls) {
		t.Errorf("%s: go-openai read %q/%s/%d calls, the stream says %q/%s/%d", what, got.content, got.finish,
			len(got.calls), st.content, st.finish, len(st.toolCalls))
	}
	for i := range min(len(got.calls), len(st.toolCalls)) {
		g, w := got.calls[i], st.toolCalls[i]
		if g.ID != w.ID || g.Function.Name != w.Function.Name || g.Function.Arguments != w.Function.Arguments {
			t.Errorf("%s: go-openai folded call %d to %+v, want %+v", what, i, g, w)
		}
	}
	u := got.usage
	if (u != nil) != (st.usage != nil) || u != nil && (u.PromptTokens != int(st.usage.PromptTokens) ||
		u.CompletionTokens != int(st.usage.CompletionTokens)) {
		t.Errorf("%s: go-openai usage %+v, the stream's %s", what, u, mustJSON(st.usage))
	}
}

// serveChunks answers every request with the chunks as an OpenAI event stream.
func serveChunks(chunks [][]byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		var buf bytes.Buffer
		for _, c := range chunks {
			buf.WriteString("data: ")
			buf.Write(c)
			buf.WriteString("\n\n")
		}
		buf.WriteString("data: [DONE]\n\n")
		_, _ = w.Write(buf.Bytes())
	}))
}

// goOpenAIAnswer is what a go-openai user folds a stream into.
type goOpenAIAnswer struct {
	content, finish string
	calls           []goopenai.ToolCall
	usage           *goopenai.Usage
}

func readGoOpenAI(stream *goopenai.ChatCompletionStream) (goOpenAIAnswer, error) {
	var a goOpenAIAnswer
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		if err != nil {
			return a, err
		}
		if resp.Usage != nil {
			a.usage = resp.Usage
		}
		for _, ch := range resp.Choices {
			a.content += ch.Delta.Content
			if ch.FinishReason != "" {
				a.finish = string(ch.FinishReason)
			}
			a.calls = foldCalls(a.calls, ch.Delta.ToolCalls)
		}
	}
}

// foldCalls accumulates tool-call deltas by index, as go-openai's users do.
func foldCalls(calls []goopenai.ToolCall, deltas []goopenai.ToolCall) []goopenai.ToolCall {
	for _, d := range deltas {
		if d.Index == nil {
			continue
		}
		for len(calls) <= *d.Index {
			calls = append(calls, goopenai.ToolCall{})
		}
		c := &calls[*d.Index]
		if d.ID != "" {
			c.ID = d.ID
		}
		if d.Function.Name != "" {
			c.Function.Name = d.Function.Name
		}
		c.Function.Arguments += d.Function.Arguments
	}
	return calls
}

// CheckChunks checks a complete translated stream (the payloads Next returned before
// io.EOF) against OpenAI's framing, as the conformance cases do, and replays it through
// go-openai's stream parser, which must accept it and fold it to the same answer. A
// dialect's golden-stream tests call it on every recorded stream that ends cleanly.
func CheckChunks(t testing.TB, chunks [][]byte, includeUsage bool) {
	t.Helper()
	out := &streamed{}
	f := framing{t: t, out: out}
	for _, c := range chunks {
		f.chunk(c)
	}
	f.end(includeUsage)
	replayThroughGoOpenAI(t, "recorded stream", out)
}
