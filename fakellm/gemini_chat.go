package fakellm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// geminiAnswer is what the fake says to one generateContent request.
type geminiAnswer struct {
	model, responseID string
	n                 int // candidates
	pieces            []string
	call              *geminiFunctionCall
	signature         string
	finish            string // STOP or MAX_TOKENS
	blocked           bool
	tok               tokens // output counts one candidate
}

// text returns the words of the request's text parts, function calls and responses.
func (ct geminiContent) text() string {
	var parts []string
	for _, p := range ct.Parts {
		switch {
		case p.Text != nil:
			parts = append(parts, *p.Text)
		case p.FunctionCall != nil:
			parts = append(parts, p.FunctionCall.Name, string(p.FunctionCall.Args))
		case p.FunctionResponse != nil:
			parts = append(parts, p.FunctionResponse.Name, string(p.FunctionResponse.Response))
		}
	}
	return strings.Join(parts, " ")
}

// promptTokens counts the words of the system instruction and every turn, plus 3 per
// turn.
func (req *geminiRequest) promptTokens() int {
	n := 0
	if req.SystemInstruction != nil {
		n += countWords(req.SystemInstruction.text())
	}
	for _, ct := range req.Contents {
		n += countWords(ct.text()) + 3
	}
	return n
}

// lastUser is the text of the last user turn after the last function response, ""
// when the conversation ends with function responses.
func (req *geminiRequest) lastUser() string {
	last := ""
	for _, ct := range req.Contents {
		if ct.Role == "model" {
			continue
		}
		if countResponses(ct) > 0 {
			last = ""
			continue
		}
		last = ct.text()
	}
	return last
}

// pickCall decides whether the answer calls a function, and builds the call.
func (req *geminiRequest) pickCall() *geminiFunctionCall {
	mode, forced := "AUTO", ""
	if tc := req.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		if tc.FunctionCallingConfig.Mode != "" {
			mode = tc.FunctionCallingConfig.Mode
		}
		if names := tc.FunctionCallingConfig.AllowedFunctionNames; len(names) == 1 {
			forced = names[0]
		}
	}
	var names []string
	schemas := map[string]json.RawMessage{}
	for _, t := range req.Tools {
		for _, d := range t.FunctionDeclarations {
			names = append(names, d.Name)
			schemas[d.Name] = d.ParametersJSONSchema
			if len(d.Parameters) > 0 {
				schemas[d.Name] = d.Parameters
			}
		}
	}
	if mode == "NONE" || len(names) == 0 {
		return nil
	}
	name, ok := pickTool(names, forced, mode == "ANY", req.lastUser())
	if !ok {
		return nil
	}
	return &geminiFunctionCall{Name: name, Args: json.RawMessage(toolArguments(schemas[name]))}
}

// format returns the answer format generationConfig asks for.
func (gc *geminiConfig) format() format {
	if gc == nil || gc.ResponseMimeType != "application/json" {
		return format{}
	}
	s := gc.ResponseJSONSchema
	if len(s) == 0 {
		s = gc.ResponseSchema
	}
	return format{json: true, schema: s}
}

func handleGeminiGenerate(c *call, model string, stream bool) {
	var req geminiRequest
	if !decodeGemini(c, &req) {
		return
	}
	if msg := req.validate(model); msg != "" {
		c.fail(googleBadRequest(msg))
		return
	}
	a := planGemini(c, &req, model)
	c.charge(a.tok.prompt() + a.n*a.tok.completion())
	if !stream {
		c.respond(a.response(len(a.pieces), true, c.k.mode != ModeNoUsage), c.generationTime(a.steps()))
		return
	}
	if c.r.URL.Query().Get("alt") != "sse" {
		// Without alt=sse Google streams one JSON array of responses.
		c.respond(a.events(c.k.mode != ModeNoUsage), c.generationTime(a.steps()))
		return
	}
	c.w = &geminiWriter{ResponseWriter: c.w}
	c.stream(a.sseEvents(c.k.mode != ModeNoUsage), geminiErrorEvent(c, c.k.errorStatus))
}

func planGemini(c *call, req *geminiRequest, model string) *geminiAnswer {
	gc := req.GenerationConfig
	if gc == nil {
		gc = &geminiConfig{}
	}
	a := &geminiAnswer{model: model, responseID: c.s.newID("", 22), n: 1, finish: "STOP"}
	if gc.CandidateCount != nil {
		a.n = *gc.CandidateCount
	}
	a.tok = c.usageTokens(req.promptTokens(), 0)
	call := req.pickCall()
	switch {
	case strings.Contains(strings.ToLower(req.lastUser()), "block prompt"):
		a.blocked, a.n = true, 0
		a.tok.output, a.tok.reasoning = 0, 0
	case call != nil:
		a.call = call
		a.signature = base64.StdEncoding.EncodeToString([]byte("fakellm-thought-" + a.responseID))
		a.tok.output = len(splitArgs(string(a.call.Args), c.k.chunks))
	default:
		p := planText(c.k.chunks, gc.MaxOutputTokens, gc.format(), gc.StopSequences)
		a.pieces, a.tok.output = p.pieces, len(p.pieces)
		if p.cut == cutLength {
			a.finish = "MAX_TOKENS"
		}
	}
	return a
}

// steps is how many generated chunks the answer has.
func (a *geminiAnswer) steps() int { return max(len(a.pieces), 1) }

type geminiResponse struct {
	Candidates     []geminiCandidate `json:"candidates,omitempty"`
	PromptFeedback *struct {
		BlockReason   string           `json:"blockReason"`
		SafetyRatings []map[string]any `json:"safetyRatings"`
	} `json:"promptFeedback,omitempty"`
	UsageMetadata *geminiUsage `json:"usageMetadata,omitempty"`
	ModelVersion  string       `json:"modelVersion"`
	ResponseID    string       `json:"responseId"`
}

type geminiCandidate struct {
	Content      geminiContent `json:"content"`
	FinishReason string        `json:"finishReason,omitempty"`
	Index        int           `json:"index"`
}

type geminiUsage struct {
	PromptTokenCount        int               `json:"promptTokenCount"`
	CandidatesTokenCount    int               `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount         int               `json:"totalTokenCount"`
	CachedContentTokenCount int               `json:"cachedContentTokenCount,omitempty"`
	ThoughtsTokenCount      int               `json:"thoughtsTokenCount,omitempty"`
	PromptTokensDetails     []json.RawMessage `json:"promptTokensDetails,omitempty"`
}

// usage is the usageMetadata after generated output tokens of each candidate. Gemini
// has no cache-write count: written tokens are ordinary prompt tokens. Thoughts are
// reported once the answer is complete.
func (a *geminiAnswer) usage(generated int, final bool) *geminiUsage {
	if final {
		generated = a.tok.output
	}
	u := &geminiUsage{PromptTokenCount: a.tok.prompt(), CandidatesTokenCount: generated * a.n,
		CachedContentTokenCount: a.tok.cacheRead}
	if final {
		u.ThoughtsTokenCount = a.tok.reasoning * a.n
	}
	u.TotalTokenCount = u.PromptTokenCount + u.CandidatesTokenCount + u.ThoughtsTokenCount
	detail, _ := json.Marshal(map[string]any{"modality": "TEXT", "tokenCount": u.PromptTokenCount})
	u.PromptTokensDetails = []json.RawMessage{detail}
	return u
}

// response renders the answer with the pieces up to upTo: the whole answer, or one
// stream event when final is false.
func (a *geminiAnswer) response(upTo int, final, withUsage bool) geminiResponse {
	r := geminiResponse{ModelVersion: a.model, ResponseID: a.responseID}
	if withUsage {
		r.UsageMetadata = a.usage(upTo, final)
	}
	if a.blocked {
		r.PromptFeedback = &struct {
			BlockReason   string           `json:"blockReason"`
			SafetyRatings []map[string]any `json:"safetyRatings"`
		}{BlockReason: "SAFETY", SafetyRatings: []map[string]any{
			{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}}}
		return r
	}
	for i := range a.n {
		r.Candidates = append(r.Candidates, a.candidate(i, 0, upTo, final))
	}
	return r
}

// candidate renders candidate i with the pieces from..upTo.
func (a *geminiAnswer) candidate(i, from, upTo int, final bool) geminiCandidate {
	c := geminiCandidate{Content: geminiContent{Role: "model"}, Index: i}
	switch {
	case a.call != nil:
		c.Content.Parts = []geminiPart{{FunctionCall: a.call, ThoughtSignature: a.signature}}
	case upTo > from:
		text := strings.Join(a.pieces[from:upTo], "")
		c.Content.Parts = []geminiPart{{Text: &text}}
	}
	if final {
		c.FinishReason = a.finish
	}
	return c
}

// events are the stream's responses: one per generated piece (or one function call),
// usage on every one, the finish reason on the last.
func (a *geminiAnswer) events(withUsage bool) []geminiResponse {
	if a.blocked || a.call != nil || len(a.pieces) == 0 {
		return []geminiResponse{a.response(len(a.pieces), true, withUsage)}
	}
	out := make([]geminiResponse, len(a.pieces))
	for s := range a.pieces {
		final := s == len(a.pieces)-1
		r := geminiResponse{ModelVersion: a.model, ResponseID: a.responseID}
		for i := range a.n {
			r.Candidates = append(r.Candidates, a.candidate(i, s, s+1, final))
		}
		if withUsage {
			r.UsageMetadata = a.usage(s+1, final)
		}
		out[s] = r
	}
	return out
}

// sseEvents frames the events as alt=sse does: data: lines only, no [DONE].
func (a *geminiAnswer) sseEvents(withUsage bool) []sseEvent {
	evs := a.events(withUsage)
	out := make([]sseEvent, len(evs))
	for i, r := range evs {
		b, _ := json.Marshal(r) // the response always marshals
		out[i] = sseEvent{data: b, pause: true}
	}
	return out
}

// geminiErrorEvent is the error a stream ends with in the error_midstream mode.
func geminiErrorEvent(c *call, status int) sseEvent {
	b, _ := json.Marshal(newGoogleError(c, errInjected(status))) // always marshals
	return sseEvent{data: b}
}

// geminiWriter writes an error event of a stream as Google does: the error JSON as
// plain, indented lines without the data: prefix, which Google's SDKs brace-count. It
// relies on the stream writing one whole event per Write.
type geminiWriter struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the real writer to flush it.
func (w *geminiWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *geminiWriter) Write(b []byte) (int, error) {
	payload, ok := bytes.CutPrefix(b, []byte("data: {\"error\""))
	if !ok {
		return w.ResponseWriter.Write(b)
	}
	var out bytes.Buffer
	doc := append([]byte("{\"error\""), bytes.TrimRight(payload, "\n")...)
	if json.Indent(&out, doc, "", "  ") != nil {
		return w.ResponseWriter.Write(b)
	}
	out.WriteByte('\n')
	if _, err := w.ResponseWriter.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}
