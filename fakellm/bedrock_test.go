package fakellm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	awsKeyID  = "AKIAIOSFODNN7EXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsKey    = awsKeyID + ":" + awsSecret
	claude    = "anthropic.claude-3-5-haiku-20241022-v1:0"
)

// TestSigV4VerifierVectors checks the fake's SigV4 implementation against AWS's
// published test-suite signatures, and that any change to the request breaks them.
func TestSigV4VerifierVectors(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	vectors := []struct{ method, target, sig string }{
		{http.MethodGet, "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{http.MethodPost, "/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{http.MethodPost, "/?Param1=value1", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
		{http.MethodGet, "/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	for _, v := range vectors {
		r := httptest.NewRequest(v.method, "http://example.amazonaws.com"+v.target, nil)
		r.Header.Set("X-Amz-Date", "20150830T123600Z")
		auth := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + v.sig
		a, err := parseSigV4(auth)
		if err != nil {
			t.Fatal(err)
		}
		path, _, _ := strings.Cut(v.target, "?")
		if err := verifySigV4(r, path, nil, a, "service", secret, now); err != nil {
			t.Errorf("%s %s: %v", v.method, v.target, err)
		}
		if err := verifySigV4(r, path, []byte("x"), a, "service", secret, now); !errors.Is(err, errSigMismatch) {
			t.Errorf("%s %s with a body: %v, want a mismatch", v.method, v.target, err)
		}
		if err := verifySigV4(r, path, nil, a, "service", secret, now.Add(time.Hour)); !errors.Is(err, errSigMismatch) {
			t.Errorf("%s %s an hour later: %v, want a mismatch", v.method, v.target, err)
		}
		if err := verifySigV4(r, path, nil, a, "bedrock", secret, now); !errors.Is(err, errSigMalformed) {
			t.Errorf("%s %s for another service: %v", v.method, v.target, err)
		}
	}
}

// signedRequest builds a Converse request signed by the AWS SDK's signer.
func signedRequest(t *testing.T, url, body, key string, at time.Time) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	parts := strings.Split(key, ":")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: parts[0], SecretAccessKey: parts[1]}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "bedrock", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return r
}

func sendRequest(t *testing.T, r *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

const converseBody = `{"messages":[{"role":"user","content":[{"text":"hello there"}]}]}`

// TestBedrockAuth checks that the fake accepts exactly the requests AWS would: signed
// with a configured secret, or with a known API key, and refuses the others with AWS's
// 403 exceptions.
func TestBedrockAuth(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{awsKey, "bedrock-api-key-1"}, Models: []string{"*"}})
	url := f.url + "/model/" + strings.ReplaceAll(claude, ":", "%3A") + "/converse"
	now := time.Now()
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		errTyp string
	}{
		{"signed", func() *http.Request { return signedRequest(t, url, converseBody, awsKey, now) }, 200, ""},
		{"api key", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(converseBody))
			r.Header.Set("Authorization", "Bearer bedrock-api-key-1")
			return r
		}, 200, ""},
		{"no auth", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(converseBody))
			return r
		}, 403, "MissingAuthenticationTokenException"},
		{"unknown api key", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(converseBody))
			r.Header.Set("Authorization", "Bearer nope")
			return r
		}, 403, "UnrecognizedClientException"},
		{"wrong secret", func() *http.Request { return signedRequest(t, url, converseBody, awsKeyID+":other", now) }, 403, "InvalidSignatureException"},
		{"unknown access key", func() *http.Request { return signedRequest(t, url, converseBody, "AKIAOTHER:"+awsSecret, now) }, 403, "UnrecognizedClientException"},
		{"body changed after signing", func() *http.Request {
			r := signedRequest(t, url, converseBody, awsKey, now)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(converseBody, "hello", "HELLO", 1)))
			return r
		}, 403, "InvalidSignatureException"},
		{"signed an hour ago", func() *http.Request { return signedRequest(t, url, converseBody, awsKey, now.Add(-time.Hour)) }, 403, "InvalidSignatureException"},
		{"malformed header", func() *http.Request {
			r := signedRequest(t, url, converseBody, awsKey, now)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			return r
		}, 403, "IncompleteSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := sendRequest(t, tt.req())
			if status != tt.status || !strings.HasPrefix(h.Get("x-amzn-ErrorType"), tt.errTyp) {
				t.Errorf("status %d error type %q, want %d %q: %s", status, h.Get("x-amzn-ErrorType"), tt.status, tt.errTyp, b)
			}
			if h.Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if tt.status != 200 && (strings.Contains(string(b), awsSecret) || !strings.Contains(string(b), `"message"`)) {
				t.Errorf("error body %s", b)
			}
		})
	}
}

// decodeFrames decodes an event stream with the AWS SDK's decoder, which checks every
// CRC: the fake's encoder and the SDK agree on the framing.
func decodeFrames(t *testing.T, body []byte) []eventstream.Message {
	t.Helper()
	dec := eventstream.NewDecoder()
	r := bytes.NewReader(body)
	var out []eventstream.Message
	for r.Len() > 0 {
		m, err := dec.Decode(r, nil)
		if err != nil {
			t.Fatalf("frame %d: %v", len(out), err)
		}
		out = append(out, m)
	}
	return out
}

func header(m eventstream.Message, name string) string {
	if v := m.Headers.Get(name); v != nil {
		return v.String()
	}
	return ""
}

// TestConverseStreamFrames reads a ConverseStream answer: frames the AWS SDK decodes,
// the event sequence, a tool call in fragments, and usage with the cache knobs.
func TestConverseStreamFrames(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{awsKey}, Models: []string{"*"}, Chunks: 4})
	url := f.url + "/model/" + claude + "/converse-stream"
	body := `{"messages":[{"role":"user","content":[{"text":"please call tool get_weather"}]}],
	  "toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}]}}`
	r := signedRequest(t, url, body, awsKey, time.Now())
	r.Header.Set("X-Fake-Cached-Tokens", "100")
	r.Header.Set("X-Fake-Cache-Write-Tokens", "20")
	r.Header.Set("X-Fake-Reasoning-Tokens", "5")
	r.Header.Set("X-Amz-Date", r.Header.Get("X-Amz-Date")) // signed headers are unchanged
	status, h, b := sendRequest(t, r)
	if status != 200 || h.Get("Content-Type") != eventStreamType {
		t.Fatalf("status %d %s: %s", status, h.Get("Content-Type"), b)
	}
	frames := decodeFrames(t, b)
	var types []string
	var args string
	for _, m := range frames {
		if header(m, ":message-type") != "event" || header(m, ":content-type") != "application/json" {
			t.Errorf("frame headers %v", m.Headers)
		}
		types = append(types, header(m, ":event-type"))
		var p struct {
			Delta struct{ ToolUse struct{ Input string } } `json:"delta"`
		}
		_ = json.Unmarshal(m.Payload, &p)
		args += p.Delta.ToolUse.Input
	}
	want := "messageStart contentBlockStart contentBlockDelta contentBlockDelta contentBlockDelta contentBlockDelta contentBlockStop messageStop metadata"
	if strings.Join(types, " ") != want || args != `{"city":"fake"}` {
		t.Errorf("events %v, arguments %q", types, args)
	}
	var meta struct {
		Usage converseUsage `json:"usage"`
	}
	decode(t, frames[len(frames)-1].Payload, &meta)
	u := meta.Usage
	if u.CacheReadInputTokens != 100 || u.CacheWriteInputTokens != 20 || u.OutputTokens != 4+5 ||
		u.TotalTokens != u.InputTokens+100+20+u.OutputTokens || u.InputTokens <= 0 {
		t.Errorf("usage %+v", u)
	}
}

// TestConverseStreamException checks error_midstream: events, then an exception frame
// named for the status, and the end of the body.
func TestConverseStreamException(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	for status, name := range map[int]string{429: "throttlingException", 503: "serviceUnavailableException",
		500: "internalServerException", 424: "modelStreamErrorException"} {
		r, _ := http.NewRequest(http.MethodPost, f.url+"/model/m/converse-stream", strings.NewReader(converseBody))
		r.Header.Set("Authorization", "Bearer k")
		r.Header.Set("X-Fake-Mode", ModeErrorMidstream)
		r.Header.Set("X-Fake-Error-Status", itoaTest(status))
		r.Header.Set("X-Fake-Error-Rate", "0")
		_, _, b := sendRequest(t, r)
		frames := decodeFrames(t, b)
		last := frames[len(frames)-1]
		if header(last, ":message-type") != "exception" || header(last, ":exception-type") != name || len(frames) < 2 {
			t.Errorf("status %d: last frame %v", status, last.Headers)
		}
	}
}

func itoaTest(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestConverseValidation checks the ValidationExceptions Converse answers for requests
// it cannot run.
func TestConverseValidation(t *testing.T) {
	f := newFixture(t, Options{Models: []string{claude}})
	tests := []struct{ name, body, msg string }{
		{"assistant first", `{"messages":[{"role":"assistant","content":[{"text":"hi"}]}]}`, "must start with a user message"},
		{"two user turns", `{"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"user","content":[{"text":"b"}]}]}`, "must alternate"},
		{"blank text", `{"messages":[{"role":"user","content":[{"text":" "}]}]}`, "messages.0.content.0 is blank"},
		{"tool blocks without tools", `{"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"t","name":"f","input":{}}}]},` +
			`{"role":"user","content":[{"toolResult":{"toolUseId":"t","content":[{"text":"r"}]}}]}]}`, "toolConfig field must be defined"},
		{"no messages", `{"messages":[]}`, "must start with a user message"},
		{"max tokens zero", `{"messages":[{"role":"user","content":[{"text":"a"}]}],"inferenceConfig":{"maxTokens":0}}`, "maxTokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, f.url+"/model/"+claude+"/converse", strings.NewReader(tt.body))
			r.Header.Set("Authorization", "Bearer k")
			status, h, b := sendRequest(t, r)
			if status != 400 || !strings.HasPrefix(h.Get("x-amzn-ErrorType"), "ValidationException") || !strings.Contains(string(b), tt.msg) {
				t.Errorf("status %d %s: %s", status, h.Get("x-amzn-ErrorType"), b)
			}
		})
	}
	r, _ := http.NewRequest(http.MethodPost, f.url+"/model/other-model/converse", strings.NewReader(converseBody))
	r.Header.Set("Authorization", "Bearer k")
	if status, _, b := sendRequest(t, r); status != 400 || !strings.Contains(string(b), "model identifier is invalid") {
		t.Errorf("unknown model: %d %s", status, b)
	}
	r, _ = http.NewRequest(http.MethodPost, f.url+"/model/"+claude+"/chat", strings.NewReader(converseBody))
	r.Header.Set("Authorization", "Bearer k")
	if status, h, _ := sendRequest(t, r); status != 404 || !strings.HasPrefix(h.Get("x-amzn-ErrorType"), "UnknownOperationException") {
		t.Errorf("unknown operation: %d %s", status, h.Get("x-amzn-ErrorType"))
	}
}

// TestConverseAnswer checks an unstreamed answer: text cut at a stop sequence with
// stopReason stop_sequence, usage excluding cache tokens from inputTokens.
func TestConverseAnswer(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}, Chunks: 8})
	body := `{"system":[{"text":"Be terse."}],"messages":[{"role":"user","content":[{"text":"hello there"}]}],"inferenceConfig":{"stopSequences":["model"]}}`
	r, _ := http.NewRequest(http.MethodPost, f.url+"/model/m/converse", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer k")
	r.Header.Set("X-Fake-Cached-Tokens", "7")
	status, _, b := sendRequest(t, r)
	var resp converseResponse
	decode(t, b, &resp)
	text := *resp.Output.Message.Content[0].Text
	if status != 200 || text != Text(8)[:strings.Index(Text(8), "model")] || resp.StopReason != "stop_sequence" {
		t.Errorf("status %d answer %q stop %q", status, text, resp.StopReason)
	}
	// "Be terse." (2) + "hello there" (2) + 3 for the message.
	if u := resp.Usage; u.InputTokens != 7 || u.CacheReadInputTokens != 7 || u.TotalTokens != 7+7+u.OutputTokens {
		t.Errorf("usage %+v", u)
	}
}
