package fakellm

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const geminiKey = "AIzaFakeTestKey"

// gem sends a Gemini request with the key in x-goog-api-key.
func (f *fixture) gem(path, body string, headers map[string]string) (int, http.Header, []byte) {
	f.t.Helper()
	h := map[string]string{"x-goog-api-key": geminiKey}
	for k, v := range headers {
		h[k] = v
	}
	return f.call(req{path: path, body: body, headers: h, noAuth: true})
}

type geminiErrBody struct {
	Error struct {
		Code    int              `json:"code"`
		Message string           `json:"message"`
		Status  string           `json:"status"`
		Details []map[string]any `json:"details"`
	} `json:"error"`
}

func gemError(t *testing.T, b []byte) geminiErrBody {
	t.Helper()
	var e geminiErrBody
	decode(t, b, &e)
	return e
}

const (
	gemGenerate = "/v1beta/models/gemini-3-flash-preview:generateContent"
	gemStream   = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
	gemHello    = `{"contents":[{"role":"user","parts":[{"text":"hello there"}]}]}`
)

// TestGeminiAuth: the key in x-goog-api-key or ?key= is accepted; a missing key is
// Google's 403, a wrong one its 400 INVALID_ARGUMENT with the API_KEY_INVALID reason.
func TestGeminiAuth(t *testing.T) {
	f := newFixture(t, Options{Keys: []string{geminiKey}, Models: []string{"*"}})
	if st, _, b := f.gem(gemGenerate, gemHello, nil); st != 200 {
		t.Fatalf("header key: %d %s", st, b)
	}
	if st, _, b := f.call(req{path: gemGenerate + "?key=" + geminiKey, body: gemHello, noAuth: true}); st != 200 {
		t.Fatalf("query key: %d %s", st, b)
	}
	st, _, b := f.call(req{path: gemGenerate, body: gemHello, noAuth: true})
	if e := gemError(t, b); st != 403 || e.Error.Status != "PERMISSION_DENIED" {
		t.Errorf("missing key: %d %s", st, b)
	}
	st, _, b = f.gem(gemGenerate, gemHello, map[string]string{"x-goog-api-key": "AIzaWrong"})
	e := gemError(t, b)
	if st != 400 || e.Error.Status != "INVALID_ARGUMENT" || len(e.Error.Details) == 0 ||
		e.Error.Details[0]["reason"] != "API_KEY_INVALID" || strings.Contains(string(b), "AIzaWrong") {
		t.Errorf("wrong key: %d %s", st, b)
	}
}

// TestGeminiGenerate: a text answer in Gemini's shape, with usage that folds cache
// writes into the prompt and reports reads and thoughts in their own fields.
func TestGeminiGenerate(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}, Chunks: 3})
	st, h, b := f.gem(gemGenerate, `{"systemInstruction":{"parts":[{"text":"be brief"}]},`+
		`"contents":[{"role":"user","parts":[{"text":"hello there"}]}],"generationConfig":{"candidateCount":2}}`,
		map[string]string{"X-Fake-Cached-Tokens": "10", "X-Fake-Cache-Write-Tokens": "4", "X-Fake-Reasoning-Tokens": "2"})
	var r geminiResponse
	decode(t, b, &r)
	if st != 200 || h.Get("Content-Type") != "application/json" || len(r.Candidates) != 2 || r.ResponseID == "" ||
		r.ModelVersion != "gemini-3-flash-preview" {
		t.Fatalf("%d %s", st, b)
	}
	c := r.Candidates[1]
	if c.Index != 1 || c.Content.Role != "model" || *c.Content.Parts[0].Text != Text(3) || c.FinishReason != "STOP" {
		t.Errorf("candidate %+v", c)
	}
	u := r.UsageMetadata
	if u.PromptTokenCount != 2+2+3+10+4 || u.CachedContentTokenCount != 10 || u.CandidatesTokenCount != 6 ||
		u.ThoughtsTokenCount != 4 || u.TotalTokenCount != 21+6+4 {
		t.Errorf("usage %+v", u)
	}
}

// TestGeminiRejects: requests Google rejects are its 400 INVALID_ARGUMENT.
func TestGeminiRejects(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	call := `{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]}`
	answer := `{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"output":"x"}}}]}`
	tests := []struct{ name, path, body, want string }{
		{"unknown field", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],"max_tokens":5}`, "Invalid JSON payload received"},
		{"no contents", gemGenerate, `{}`, "contents is not specified"},
		{"assistant role", gemGenerate, `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, "valid role"},
		{"empty parts", gemGenerate, `{"contents":[{"role":"user","parts":[]}]}`, "must not be empty"},
		{"empty text", gemGenerate, `{"contents":[{"parts":[{"text":""}]}]}`, "empty text parameter"},
		{"two data fields", gemGenerate, `{"contents":[{"parts":[{"text":"x","functionCall":{"name":"f"}}]}]}`, "oneof"},
		{"bad base64", gemGenerate, `{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":"@@"}}]}]}`, "Base64"},
		{"OpenAPI parameters with additionalProperties", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],` +
			`"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","additionalProperties":false}}]}]}`, `Unknown name "additionalProperties"`},
		{"bad function name", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"1 bad"}]}]}`, "Invalid function name"},
		{"two response schemas", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",` +
			`"responseSchema":{"type":"object"},"responseJsonSchema":{"type":"object"}}}`, "mutually exclusive"},
		{"schema without JSON", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseJsonSchema":{"type":"object"}}}`, "response_mime_type"},
		{"six stop sequences", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"stopSequences":["a","b","c","d","e","f"]}}`, "stop"},
		{"names without ANY", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"AUTO","allowedFunctionNames":["f"]}}}`, "allowed_function_names"},
		{"missing response", gemStream, `{"contents":[{"parts":[{"text":"x"}]},` + call + `,{"parts":[{"text":"y"}]}]}`, "function response parts"},
		{"gemini 3 call without signature", gemGenerate, `{"contents":[{"parts":[{"text":"x"}]},` + call + `,` + answer + `]}`, "thought_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _, b := f.gem(tt.path, tt.body, nil)
			if e := gemError(t, b); st != 400 || e.Error.Status != "INVALID_ARGUMENT" || !strings.Contains(e.Error.Message, tt.want) {
				t.Errorf("%d %s, want 400 mentioning %q", st, b, tt.want)
			}
		})
	}
	signed := strings.Replace(call, `"functionCall"`, `"thoughtSignature":"skip_thought_signature_validator","functionCall"`, 1)
	if st, _, b := f.gem(gemGenerate, `{"contents":[{"parts":[{"text":"x"}]},`+signed+`,`+answer+`]}`, nil); st != 200 {
		t.Errorf("signed history: %d %s", st, b)
	}
}

// TestGeminiFunctionCall: with tools, "call tool" or mode ANY answers a whole
// functionCall part with a thought signature and finishReason STOP; NONE answers text.
func TestGeminiFunctionCall(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	tools := `"tools":[{"functionDeclarations":[{"name":"get_weather","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}}}},` +
		`{"name":"get_time","parameters":{"type":"OBJECT","properties":{"zone":{"type":"STRING"}}}}]}]`
	for _, tc := range []struct{ name, text, config, want string }{
		{"asked", "please call tool", "", "get_weather"},
		{"forced", "hello", `,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_time"]}}`, "get_time"},
		{"none", "please call tool", `,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}`, ""},
	} {
		st, _, b := f.gem(gemGenerate, `{"contents":[{"role":"user","parts":[{"text":"`+tc.text+`"}]}],`+tools+tc.config+`}`, nil)
		var r geminiResponse
		decode(t, b, &r)
		if st != 200 || r.Candidates[0].FinishReason != "STOP" {
			t.Fatalf("%s: %d %s", tc.name, st, b)
		}
		p := r.Candidates[0].Content.Parts[0]
		switch {
		case tc.want == "" && p.Text == nil:
			t.Errorf("%s: want text, got %s", tc.name, b)
		case tc.want != "" && (p.FunctionCall == nil || p.FunctionCall.Name != tc.want || p.ThoughtSignature == "" || len(p.FunctionCall.Args) < 2):
			t.Errorf("%s: want a signed call of %s, got %s", tc.name, tc.want, b)
		}
	}
}

// TestGeminiStreamFraming: alt=sse streams data: lines only, no [DONE], usage on every
// event and the finish reason on the last; without alt the answer is one JSON array.
func TestGeminiStreamFraming(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}, Chunks: 4})
	body := `{"contents":[{"parts":[{"text":"hello there"}]}],"generationConfig":{"stopSequences":["fake"],"responseMimeType":"text/plain"}}`
	st, h, b := f.gem(gemStream+"?alt=sse", body, nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") || strings.Contains(string(b), "[DONE]") ||
		strings.Contains(string(b), "event:") {
		t.Fatalf("%d %v %s", st, h, b)
	}
	events := sseData(t, b)
	var text strings.Builder
	var last geminiResponse
	for _, ev := range events {
		var r geminiResponse
		decode(t, []byte(ev), &r)
		if r.UsageMetadata == nil {
			t.Errorf("event without usage: %s", ev)
		}
		for _, p := range r.Candidates[0].Content.Parts {
			text.WriteString(*p.Text)
		}
		last = r
	}
	if text.String() != "Hello from the " || last.Candidates[0].FinishReason != "STOP" || last.UsageMetadata.CandidatesTokenCount != len(events) {
		t.Errorf("text %q, last %+v", text.String(), last)
	}
	st, h, b = f.gem(gemStream, body, nil)
	var arr []geminiResponse
	if st != 200 || h.Get("Content-Type") != "application/json" || json.Unmarshal(b, &arr) != nil || len(arr) != len(events) {
		t.Errorf("JSON-array mode: %d %s", st, b)
	}
}

// TestGeminiMidstreamError: error_midstream ends an alt=sse stream with the error as
// plain, indented JSON lines, as Google does.
func TestGeminiMidstreamError(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}, Chunks: 4})
	_, _, b := f.gem(gemStream+"?alt=sse", gemHello, map[string]string{"X-Fake-Mode": "error_midstream", "X-Fake-Error-Status": "503",
		"X-Fake-Error-Rate": "0"})
	head, tail, ok := strings.Cut(string(b), "\n{\n")
	var e geminiErrBody
	if !ok || !strings.HasPrefix(head, "data: ") || json.Unmarshal([]byte("{\n"+tail), &e) != nil || e.Error.Code != 503 ||
		e.Error.Status != "UNAVAILABLE" {
		t.Fatalf("stream %q", b)
	}
}

// TestGeminiRateLimit: a spent window is a 429 RESOURCE_EXHAUSTED with a RetryInfo.
func TestGeminiRateLimit(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}, RateLimitRequests: 1})
	f.gem(gemGenerate, gemHello, nil)
	st, _, b := f.gem(gemGenerate, gemHello, nil)
	e := gemError(t, b)
	var delay string
	for _, d := range e.Error.Details {
		if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo" {
			delay, _ = d["retryDelay"].(string)
		}
	}
	if st != 429 || e.Error.Status != "RESOURCE_EXHAUSTED" || !strings.HasSuffix(delay, "s") || delay == "0s" {
		t.Errorf("%d %s", st, b)
	}
}

// TestGeminiBlockedPrompt: "block prompt" answers 200 with promptFeedback and no
// candidates.
func TestGeminiBlockedPrompt(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	st, _, b := f.gem(gemGenerate, `{"contents":[{"parts":[{"text":"please block prompt"}]}]}`, nil)
	var r geminiResponse
	decode(t, b, &r)
	if st != 200 || len(r.Candidates) != 0 || r.PromptFeedback == nil || r.PromptFeedback.BlockReason != "SAFETY" ||
		r.UsageMetadata.PromptTokenCount == 0 || r.UsageMetadata.CandidatesTokenCount != 0 {
		t.Errorf("%d %s", st, b)
	}
}

// TestGeminiJSONAndLimits: JSON mode answers the schema's object; maxOutputTokens
// ends the answer with MAX_TOKENS.
func TestGeminiJSONAndLimits(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	_, _, b := f.gem(gemGenerate, `{"contents":[{"parts":[{"text":"weather"}]}],"generationConfig":{"responseMimeType":"application/json",`+
		`"responseJsonSchema":{"type":"object","properties":{"celsius":{"type":"number"}}}}}`, nil)
	var r geminiResponse
	decode(t, b, &r)
	var obj map[string]any
	if json.Unmarshal([]byte(*r.Candidates[0].Content.Parts[0].Text), &obj) != nil || obj["celsius"] == nil {
		t.Errorf("JSON mode: %s", b)
	}
	_, _, b = f.gem(gemGenerate, `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":2}}`, nil)
	decode(t, b, &r)
	if r.Candidates[0].FinishReason != "MAX_TOKENS" || *r.Candidates[0].Content.Parts[0].Text != Text(2) {
		t.Errorf("max tokens: %s", b)
	}
}

// TestGeminiEmbed: embedContent and batchEmbedContents give the same vector for the
// same text, with usageMetadata; batches over 100 or naming another model are a 400.
func TestGeminiEmbed(t *testing.T) {
	f := newFixture(t, Options{Models: []string{"*"}})
	const path = "/v1beta/models/gemini-embedding-001:"
	_, _, b := f.gem(path+"embedContent", `{"content":{"parts":[{"text":"a b c"}]},"outputDimensionality":5}`, nil)
	var one struct {
		Embedding     geminiEmbedding  `json:"embedding"`
		UsageMetadata geminiEmbedUsage `json:"usageMetadata"`
	}
	decode(t, b, &one)
	item := `{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a b c"}]},"outputDimensionality":5}`
	_, _, b = f.gem(path+"batchEmbedContents", `{"requests":[`+item+`,`+item+`]}`, nil)
	var batch struct {
		Embeddings    []geminiEmbedding `json:"embeddings"`
		UsageMetadata geminiEmbedUsage  `json:"usageMetadata"`
	}
	decode(t, b, &batch)
	if len(one.Embedding.Values) != 5 || one.UsageMetadata.PromptTokenCount != 3 || len(batch.Embeddings) != 2 ||
		batch.Embeddings[1].Values[4] != one.Embedding.Values[4] || batch.UsageMetadata.PromptTokenCount != 6 {
		t.Errorf("single %+v, batch %+v", one, batch)
	}
	many := strings.Repeat(item+",", 100) + item
	for _, body := range []string{`{"requests":[` + many + `]}`, `{"requests":[` + strings.Replace(item, "001", "002", 1) + `]}`} {
		if st, _, b := f.gem(path+"batchEmbedContents", body, nil); st != 400 {
			t.Errorf("%d %.200s", st, b)
		}
	}
	st, _, b := f.gem(path+"countTokens", `{"contents":[{"parts":[{"text":"one two"}]}]}`, nil)
	if st != 200 || !strings.Contains(string(b), `"totalTokens":5`) {
		t.Errorf("countTokens: %d %s", st, b)
	}
	st, _, b = f.call(req{method: http.MethodGet, path: "/v1beta/models/gemini-2.5-pro", headers: map[string]string{"x-goog-api-key": geminiKey}, noAuth: true})
	if st != 200 || !strings.Contains(string(b), `"name":"models/gemini-2.5-pro"`) {
		t.Errorf("get model: %d %s", st, b)
	}
}
