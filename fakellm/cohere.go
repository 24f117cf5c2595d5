package fakellm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// cohere is Cohere's v2 dialect: POST /v2/chat (JSON, or server-sent events with
// stream true) and POST /v2/embed, Bearer auth, and errors as {"id","message"}.
//
// Streams name every event twice, in an event: line and in the data's "type", and end
// with data: [DONE] after message-end. A text answer streams message-start,
// content-start, one content-delta per word, content-end and message-end; a tool call
// streams a tool plan (tool-plan-delta), then tool-call-start (id, name, no
// arguments), the arguments in tool-call-delta fragments, tool-call-end and
// message-end with finish_reason TOOL_CALL. The error_midstream mode ends a stream
// with message-end, finish_reason ERROR and an error message, as Cohere reports a
// failed generation. Usage reports billed_units (what Cohere charges: the prompt with
// cache reads and writes, the answer with reasoning), tokens (which also count a
// 218-token prompt template), and cached_tokens. A missing key is a 401 "no api key
// supplied", a wrong one a 401 "invalid api token". Requests are checked as Cohere
// does: a known role per message, the system message first, a tool result naming an
// earlier call, tool_choice REQUIRED or NONE, response_format not with tools, at most
// 5 stop sequences.
type cohere struct{}

var _ dialect = cohere{}

// cohereTemplateTokens is what Cohere's prompt template adds to tokens.input_tokens
// beyond the billed input.
const cohereTemplateTokens = 218

func (cohere) routes() []route {
	return []route{
		{method: http.MethodPost, path: "/v2/chat", handle: handleCohereChat},
		{method: http.MethodPost, path: "/v2/embed", handle: handleCohereEmbed},
	}
}

// credential reads the Bearer token, as OpenAI's dialect does.
func (cohere) credential(r *http.Request) string { return openAI{}.credential(r) }

func (cohere) setHeaders(c *call) {
	h := c.w.Header()
	h.Set("x-debug-trace-id", strings.ToLower(c.id))
	h.Set("x-endpoint-monthly-call-limit", strconv.Itoa(c.rate.limitRequests))
	h.Set("x-trial-endpoint-call-limit", strconv.Itoa(c.rate.limitRequests))
	h.Set("x-trial-endpoint-call-remaining", strconv.Itoa(c.rate.remainingRequests))
}

// cohereError is Cohere's error body.
type cohereError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// newCohereError words e as Cohere would for its status.
func newCohereError(c *call, e *apiError) cohereError {
	msg := e.Message
	switch {
	case e.Status == http.StatusUnauthorized && c.key == "":
		msg = "no api key supplied"
	case e.Status == http.StatusUnauthorized:
		msg = "invalid api token"
	case e.Status == http.StatusTooManyRequests:
		msg = "You are past the per minute request limit, please wait and try again later."
	case e.Status == http.StatusServiceUnavailable:
		msg = "service unavailable, please try again later"
	case e.Status >= 500:
		msg = "internal server error, this has been reported to our developers. id " + strings.ToLower(c.id)
	}
	return cohereError{ID: cohereUUID(c), Message: msg}
}

func (cohere) writeError(c *call, e *apiError) {
	if e.RetryAfter > 0 {
		c.w.Header().Set("Retry-After", strconv.Itoa(max(int(e.RetryAfter.Seconds()+0.999), 1)))
	}
	c.writeJSON(e.Status, newCohereError(c, e))
}

// cohereUUID is a deterministic id in UUID form, as Cohere's ids are.
func cohereUUID(c *call) string {
	const hex = "0123456789abcdef"
	x := mix(uint64(c.s.opts.Seed) + c.s.seq.Add(1)*golden)
	b := make([]byte, 0, 36)
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b = append(b, '-')
		}
		x += golden
		b = append(b, hex[mix(x)%16])
	}
	return string(b)
}

// cohereBadRequest is a 400 with Cohere's wording.
func cohereBadRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "invalid request: " + msg}
}

// decodeCohere decodes the body into v, answering Cohere's 400 otherwise.
func decodeCohere(c *call, v any) bool {
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(cohereBadRequest(fmt.Sprintf("body is not valid JSON: %v", err)))
		return false
	}
	return true
}

// checkCohereModel answers 400 for a missing model and 404 for one the fake does not
// serve.
func checkCohereModel(c *call, model string) bool {
	if model == "" {
		c.fail(cohereBadRequest("model is required"))
		return false
	}
	if !c.s.servesModel(model) {
		c.fail(&apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("model '%s' not found, make sure the correct model ID was used and that you have access to the model.", model)})
		return false
	}
	return true
}
