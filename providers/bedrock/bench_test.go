package bedrock

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// textStream is a ConverseStream answer of n text deltas, as Bedrock frames it.
func textStream(b testing.TB, n int) []byte {
	var out []byte
	out = append(out, encodeAWS(b, eventHeaders("messageStart"), []byte(`{"p":"abcdefgh","role":"assistant"}`))...)
	for i := range n {
		payload := fmt.Sprintf(`{"contentBlockIndex":0,"delta":{"text":" word%d"},"p":"abcdefghijklmnopq"}`, i)
		out = append(out, encodeAWS(b, eventHeaders("contentBlockDelta"), []byte(payload))...)
	}
	out = append(out, encodeAWS(b, eventHeaders("contentBlockStop"), []byte(`{"contentBlockIndex":0}`))...)
	out = append(out, encodeAWS(b, eventHeaders("messageStop"), []byte(`{"stopReason":"end_turn"}`))...)
	meta := `{"metrics":{"latencyMs":431},"usage":{"inputTokens":12,"outputTokens":200,"totalTokens":212}}`
	return append(out, encodeAWS(b, eventHeaders("metadata"), []byte(meta))...)
}

// BenchmarkStreamTranslate decodes and translates a 200-delta ConverseStream answer:
// the per-answer cost of the event-stream framing, CRCs and chunk rendering.
func BenchmarkStreamTranslate(b *testing.B) {
	frames := textStream(b, 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(frames)))
	for b.Loop() {
		st := newStream(context.Background(), &http.Response{Body: io.NopCloser(bytes.NewReader(frames))},
			newTranslator(envelope{id: "chatcmpl-x", model: testModel, created: 1}, false, true, schema.Secret{}))
		n := 0
		for {
			if _, err := st.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n != 203 {
			b.Fatalf("%d chunks", n)
		}
	}
}

// BenchmarkFrameReader is the framing alone, for comparison with the AWS SDK decoder.
func BenchmarkFrameReader(b *testing.B) {
	frames := textStream(b, 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(frames)))
	for b.Loop() {
		fr := newFrameReader(bytes.NewReader(frames))
		for {
			if _, err := fr.next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkAWSDecoder decodes the same frames with the AWS SDK's eventstream decoder.
func BenchmarkAWSDecoder(b *testing.B) {
	frames := textStream(b, 200)
	dec := eventstream.NewDecoder()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(frames)))
	for b.Loop() {
		r := bytes.NewReader(frames)
		for r.Len() > 0 {
			if _, err := dec.Decode(r, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkTranslateRequest translates a multi-turn tool conversation to Converse.
func BenchmarkTranslateRequest(b *testing.B) {
	body := readTestdata(b, "requests/tools_multi_turn.json")
	call := &providers.Call{Request: &schema.Request{Body: body}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := translate(call); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign measures SigV4 signing of a Converse request.
func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte(`{"messages":[]}`), 100)
	key := schema.NewSecret(testIAMKey)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "https://bedrock-runtime.us-west-2.amazonaws.com/model/m/converse", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if err := authorize(context.Background(), req, body, key, testRegion, signingName, fixedTime); err != nil {
			b.Fatal(err)
		}
	}
}

var fixedTime = time.Date(2026, 8, 21, 12, 0, 0, 0, time.UTC)
