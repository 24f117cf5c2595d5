package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// streamEvent is one entry of a testdata/streams/*.events.json script: an event of
// type, or an exception, with its JSON payload.
type streamEvent struct {
	Type      string          `json:"type"`
	Exception string          `json:"exception"`
	Payload   json.RawMessage `json:"payload"`
}

// encodeScript encodes a script as ConverseStream frames with the AWS SDK's encoder.
func encodeScript(t testing.TB, path string) []byte {
	t.Helper()
	var events []streamEvent
	if err := json.Unmarshal(readTestdata(t, path), &events); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, ev := range events {
		h := eventHeaders(ev.Type)
		if ev.Exception != "" {
			h = eventstream.Headers{{Name: ":exception-type", Value: eventstream.StringValue(ev.Exception)},
				{Name: ":content-type", Value: eventstream.StringValue("application/json")},
				{Name: ":message-type", Value: eventstream.StringValue("exception")}}
		}
		out = append(out, encodeAWS(t, h, ev.Payload)...)
	}
	return out
}

// replayStream translates recorded frames as the client of a Stream would read them.
func replayStream(frames []byte, jsonMode, includeUsage bool) ([]string, string, *stream) {
	env := envelope{id: "chatcmpl-req-1", model: testModel, created: 1755777600}
	st := newStream(context.Background(), &http.Response{Body: io.NopCloser(bytes.NewReader(frames))},
		newTranslator(env, jsonMode, includeUsage, schema.NewSecret(testIAMKey)))
	var chunks []string
	for {
		b, err := st.Next()
		if errors.Is(err, io.EOF) {
			return chunks, "EOF", st
		}
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) {
				return chunks, "not an apierr: " + err.Error(), st
			}
			return chunks, fmt.Sprintf("%d %s %s retryable=%v: %s", e.Status, e.Type, e.Code, e.Retryable, e.Message), st
		}
		chunks = append(chunks, string(b))
	}
}

// TestStreamGolden encodes each scripted ConverseStream answer (pinned as a binary
// golden file), translates it with and without include_usage, and compares the chunks,
// how the stream ended and the usage with golden transcripts.
func TestStreamGolden(t *testing.T) {
	scripts, _ := filepath.Glob(filepath.Join("testdata", "streams", "*.events.json"))
	if len(scripts) == 0 {
		t.Fatal("no stream scripts")
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".events.json")
		frames := encodeScript(t, filepath.Join("streams", name+".events.json"))
		t.Run(name, func(t *testing.T) {
			golden(t, filepath.Join("streams", name+".eventstream"), frames)
			for _, include := range []bool{true, false} {
				chunks, end, st := replayStream(frames, strings.HasPrefix(name, "json_"), include)
				u, ok := st.Usage()
				transcript := strings.Join(chunks, "\n") + "\n-- end: " + end + fmt.Sprintf("\n-- usage: %v %+v\n", ok, u)
				mode := map[bool]string{true: "usage", false: "nousage"}[include]
				golden(t, filepath.Join("streams", name+"."+mode+".golden"), []byte(transcript))
			}
		})
	}
}

// TestStreamUsageMatchesComplete checks, for the scripted text answer, that the stream
// reports the same normalised usage as the unstreamed answer with the same tokens.
func TestStreamUsageMatchesComplete(t *testing.T) {
	_, _, st := replayStream(encodeScript(t, "streams/text.events.json"), false, false)
	streamed, ok := st.Usage()
	resp, err := (&translation{}).answer(readTestdata(t, "responses/text_cache.json"), envelope{})
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	if streamed != resp.Usage || streamed.CachedTokens != 1000 || streamed.CacheWriteTokens != 200 {
		t.Errorf("streamed usage %+v, unstreamed %+v", streamed, resp.Usage)
	}
}

// TestGoOpenAIReadsTranslatedStreams serves translated streams to go-openai's parser:
// text, two tool calls with argument fragments, and a JSON-mode answer.
func TestGoOpenAIReadsTranslatedStreams(t *testing.T) {
	tests := []struct {
		script, content, finish string
		calls                   []string // name(arguments)
	}{
		{"text", "Hello from Bedrock.", "stop", nil},
		{"tools", "Let me check.", "tool_calls", []string{`get_weather({"city": "Paris"})`, `get_time({"timezone":"CET"})`}},
		{"json_mode", `{"city":"Paris","celsius":18.5}`, "stop", nil},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			chunks, end, _ := replayStream(encodeScript(t, "streams/"+tt.script+".events.json"), tt.script == "json_mode", true)
			if end != "EOF" {
				t.Fatalf("stream ended with %s", end)
			}
			content, finish, calls := readWithGoOpenAI(t, chunks)
			if content != tt.content || finish != tt.finish || strings.Join(calls, ";") != strings.Join(tt.calls, ";") {
				t.Errorf("go-openai rebuilt %q %q %q", content, finish, calls)
			}
		})
	}
}

// readWithGoOpenAI serves chunks as OpenAI SSE and folds them with go-openai.
func readWithGoOpenAI(t *testing.T, chunks []string) (content, finish string, calls []string) {
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
		goopenai.ChatCompletionRequest{Model: "my-route"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var names, args []string
	for {
		resp, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("go-openai rejected the stream: %v", err)
		}
		for _, ch := range resp.Choices {
			content += ch.Delta.Content
			if ch.FinishReason != "" {
				finish = string(ch.FinishReason)
			}
			for _, tc := range ch.Delta.ToolCalls {
				if i := *tc.Index; i == len(names) {
					names, args = append(names, tc.Function.Name), append(args, "")
				}
				args[*tc.Index] += tc.Function.Arguments
			}
		}
	}
	for i := range names {
		calls = append(calls, names[i]+"("+args[i]+")")
	}
	return content, finish, calls
}

// TestStreamRejectsOutOfOrderEvents checks translator errors on event sequences that a
// well-behaved Bedrock never sends.
func TestStreamRejectsOutOfOrderEvents(t *testing.T) {
	tr := newTranslator(envelope{}, false, false, schema.Secret{})
	if _, err := tr.event(frame{messageType: "event", eventType: "contentBlockDelta",
		payload: []byte(`{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{}"}}}`)}); err == nil {
		t.Error("tool input for a block that never started was accepted")
	}
	if _, err := tr.event(frame{messageType: "surprise"}); err == nil {
		t.Error("an unknown message type was accepted")
	}
	if _, err := tr.event(frame{messageType: "event", eventType: "messageStop", payload: []byte(`nope`)}); err == nil {
		t.Error("a messageStop that is not JSON was accepted")
	}
	e, _ := tr.event(frame{messageType: "event", eventType: "somethingNew", payload: []byte(`{}`)})
	if len(e) != 0 {
		t.Error("an unknown event produced chunks")
	}
}
