package bedrock

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// FuzzBedrockEventStream decodes arbitrary bytes as an event stream: no panic, no
// hang, and every failure is io.EOF at a frame boundary, a cut-short stream or a
// malformed frame.
func FuzzBedrockEventStream(f *testing.F) {
	for _, seed := range eventStreamSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data))
		for frames := 0; ; frames++ {
			fm, err := fr.next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errFrame) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(fm.payload) > len(data) || frames > len(data)/frameOverhead {
				t.Fatalf("decoded more than the input holds")
			}
		}
	})
}

// FuzzBedrockStream feeds the stream translator arbitrary event sequences, encoded as
// [kind byte][length u16][payload]...: chunks are always OpenAI chunks, at most one
// carries a finish_reason, and errors are *apierr.Error.
func FuzzBedrockStream(f *testing.F) {
	for _, seed := range streamSeeds(f) {
		f.Add(seed, false, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, jsonMode, includeUsage bool) {
		tr := newTranslator(envelope{id: "chatcmpl-x", model: "m", created: 1}, jsonMode, includeUsage, schema.NewSecret(testIAMKey))
		finishes := 0
		for _, fm := range decodeFuzzEvents(data) {
			chunks, err := tr.event(fm)
			for _, c := range chunks {
				var chunk schema.ChatChunk
				if json.Unmarshal(c, &chunk) != nil || chunk.Object != "chat.completion.chunk" {
					t.Fatalf("not an OpenAI chunk: %s", c)
				}
				for _, ch := range chunk.Choices {
					if ch.FinishReason != nil {
						finishes++
					}
				}
			}
			if err != nil {
				var e *apierr.Error
				if !errors.As(err, &e) || e.Status < 400 {
					t.Fatalf("error %v is not an *apierr.Error with an error status", err)
				}
				return
			}
		}
		if finishes > 1 {
			t.Fatalf("%d finish reasons", finishes)
		}
	})
}

// FuzzBedrockResponse translates arbitrary bytes as a Converse answer: no panic, and
// either an OpenAI chat completion or an *apierr.Error.
func FuzzBedrockResponse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.json"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b, strings.Contains(file, "json_"))
	}
	f.Fuzz(func(t *testing.T, data []byte, jsonMode bool) {
		resp, err := (&translation{jsonMode: jsonMode}).answer(data, envelope{id: "x", model: "m", created: 1})
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *apierr.Error", err)
			}
			return
		}
		var cr schema.ChatResponse
		if json.Unmarshal(resp.Body, &cr) != nil || len(cr.Choices) != 1 || cr.Object != "chat.completion" {
			t.Fatalf("not an OpenAI completion: %s", resp.Body)
		}
	})
}

// fuzzKinds are the frames a fuzz event kind byte selects (modulo their number).
var fuzzKinds = []frame{
	{messageType: "event", eventType: "messageStart"},
	{messageType: "event", eventType: "contentBlockStart"},
	{messageType: "event", eventType: "contentBlockDelta"},
	{messageType: "event", eventType: "contentBlockStop"},
	{messageType: "event", eventType: "messageStop"},
	{messageType: "event", eventType: "metadata"},
	{messageType: "exception", exceptionType: "throttlingException"},
	{messageType: "exception", exceptionType: "somethingElse"},
	{messageType: "error", errorCode: "InternalFailure", errorMessage: "boom"},
	{messageType: "event", eventType: "futureEvent"},
}

func decodeFuzzEvents(data []byte) []frame {
	var out []frame
	for len(data) >= 3 {
		fm := fuzzKinds[int(data[0])%len(fuzzKinds)]
		n := min(int(binary.BigEndian.Uint16(data[1:3])), len(data)-3)
		fm.payload = data[3 : 3+n]
		out = append(out, fm)
		data = data[3+n:]
	}
	return out
}

// streamSeeds encodes the golden stream scripts in the fuzz event format.
func streamSeeds(t testing.TB) [][]byte {
	scripts, _ := filepath.Glob(filepath.Join("testdata", "streams", "*.events.json"))
	var seeds [][]byte
	for _, s := range scripts {
		var events []streamEvent
		if err := json.Unmarshal(readTestdata(t, filepath.Join("streams", filepath.Base(s))), &events); err != nil {
			t.Fatal(err)
		}
		var b []byte
		for _, ev := range events {
			kind := 6
			for i, k := range fuzzKinds {
				if k.eventType != "" && k.eventType == ev.Type {
					kind = i
				}
			}
			b = append(b, byte(kind))
			b = binary.BigEndian.AppendUint16(b, uint16(len(ev.Payload)))
			b = append(b, ev.Payload...)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// eventStreamSeeds are the golden binary streams and a few broken ones.
func eventStreamSeeds(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "streams", "*.eventstream"))
	var seeds [][]byte
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b, b[:len(b)/2])
	}
	return append(seeds, rawFrame(15, 0, nil), rawFrame(32, 16, []byte("\x01a\x07\x00\x05abcde")), []byte{})
}

// TestWriteFuzzCorpus writes the seeds to testdata/fuzz under -update, so that the
// committed corpus follows the goldens.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz")
	}
	write := func(target string, i int, args ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch v := a.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case bool:
				fmt.Fprintf(&b, "bool(%v)\n", v)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range eventStreamSeeds(t) {
		write("FuzzBedrockEventStream", i, s)
	}
	for i, s := range streamSeeds(t) {
		write("FuzzBedrockStream", i, s, i%2 == 0, true)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "responses", "*.json"))
	for i, file := range files {
		b, _ := os.ReadFile(file)
		write("FuzzBedrockResponse", i, b, strings.Contains(file, "json_"))
	}
}

// TestStreamOverHTTPBody checks a Stream reads frames straight from a response body and
// that Close is safe twice.
func TestStreamOverHTTPBody(t *testing.T) {
	frames := encodeScript(t, "streams/text.events.json")
	st := newStream(context.Background(), &http.Response{Body: io.NopCloser(bytes.NewReader(frames))},
		newTranslator(envelope{id: "x"}, false, false, schema.Secret{}))
	n := 0
	for {
		if _, err := st.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n != 5 || st.Close() != nil || st.Close() != nil {
		t.Errorf("%d chunks", n)
	}
}
