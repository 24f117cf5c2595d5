package fakellm

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// gemini is the Gemini API dialect (generativelanguage.googleapis.com): the key in the
// x-goog-api-key header or the ?key= query, Google's error body
// {"error":{code,message,status,details}}, methods on /v1beta/models/{model}:{method}.
//
// It serves generateContent, streamGenerateContent (SSE with alt=sse, data: lines only
// and no [DONE]; one JSON array without it), countTokens, embedContent,
// batchEmbedContents, and the model list. Requests are decoded strictly, as Google's
// JSON parser does: an unknown field is a 400 "Invalid JSON payload received", and so is
// a function declaration whose OpenAPI "parameters" schema uses a keyword that schema
// type lacks (additionalProperties, $schema, ...); parametersJsonSchema takes any JSON
// Schema. A missing key is a 403 PERMISSION_DENIED, a wrong one a 400 INVALID_ARGUMENT
// with an ErrorInfo detail whose reason is API_KEY_INVALID; a 429 carries a RetryInfo
// detail. The last user text "block prompt" makes Gemini block the prompt: HTTP 200 with
// promptFeedback.blockReason SAFETY and no candidates. Function calls carry a
// thoughtSignature, and a request to a gemini-3 model whose history has a function call
// without one is a 400, as on Gemini 3.
type gemini struct{}

var _ dialect = gemini{}

const geminiPrefix = "/v1beta/models/"

func (gemini) routes() []route {
	return []route{
		{method: http.MethodPost, path: geminiPrefix, prefix: true, handle: handleGemini},
		{method: http.MethodGet, path: "/v1beta/models", handle: handleGeminiModels},
		{method: http.MethodGet, path: geminiPrefix, prefix: true, handle: handleGeminiModel},
	}
}

func (gemini) credential(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("x-goog-api-key")); k != "" {
		return k
	}
	return r.URL.Query().Get("key")
}

func (gemini) setHeaders(c *call) {
	h := c.w.Header()
	h.Set("Server-Timing", "gfet4t7; dur="+c.processingMillis())
	h.Set("Vary", "Origin, X-Origin, Referer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Xss-Protection", "0")
}

// googleError is Google's error body.
type googleError struct {
	Error googleStatus `json:"error"`
}

type googleStatus struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status"`
	Details []map[string]any `json:"details,omitempty"`
}

// rpcStatus names the google.rpc.Code Google sends with an HTTP status.
func rpcStatus(status int) string {
	switch status {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404, 405:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}

// newGoogleError renders e as Google would: auth failures and rate limits with their
// typed details, other failures with Google's wording for the status.
func newGoogleError(c *call, e *apiError) googleError {
	g := googleStatus{Code: e.Status, Message: e.Message, Status: rpcStatus(e.Status)}
	switch {
	case e.Status == http.StatusUnauthorized && c.key == "":
		g.Code, g.Status = http.StatusForbidden, "PERMISSION_DENIED"
		g.Message = "Method doesn't allow unregistered callers (callers without established identity). " +
			"Please use API Key or other form of API consumer identity to call this API."
	case e.Status == http.StatusUnauthorized:
		g.Code, g.Status = http.StatusBadRequest, "INVALID_ARGUMENT"
		g.Message = "API key not valid. Please pass a valid API key."
		g.Details = []map[string]any{
			{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
				"metadata": map[string]string{"service": "generativelanguage.googleapis.com"}},
			{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": g.Message},
		}
	case e.Status == http.StatusTooManyRequests:
		g.Message = "You exceeded your current quota, please check your plan and billing details. " +
			"For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
		retry := max(int64(math.Ceil(e.RetryAfter.Seconds())), 1)
		g.Details = []map[string]any{
			{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []map[string]string{{
				"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
				"quotaId":     "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}}},
			{"@type": "type.googleapis.com/google.rpc.Help", "links": []map[string]string{{
				"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}}},
			{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": strconv.FormatInt(retry, 10) + "s"},
		}
	case e.Status == http.StatusServiceUnavailable:
		g.Message = "The model is overloaded. Please try again later."
	case e.Status >= 500:
		g.Message = "An internal error has occurred. Please retry or report in " +
			"https://developers.generativeai.google/guide/troubleshooting"
	}
	return googleError{Error: g}
}

func (gemini) writeError(c *call, e *apiError) {
	g := newGoogleError(c, e)
	c.writeJSON(g.Error.Code, g)
}

// googleBadRequest is a 400 INVALID_ARGUMENT with Google's message.
func googleBadRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: msg}
}

// handleGemini dispatches POST /v1beta/models/{model}:{method}.
func handleGemini(c *call) {
	name := strings.TrimPrefix(c.r.URL.Path, geminiPrefix)
	model, method, ok := strings.Cut(name, ":")
	if !ok || model == "" {
		c.fail(&apiError{Status: http.StatusNotFound, Message: "The requested URL was not found on this server."})
		return
	}
	if !c.s.servesModel(model) {
		c.fail(&apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("models/%s is not found for API version v1beta, "+
			"or is not supported for %s. Call ListModels to see the list of available models and their supported methods.",
			model, method)})
		return
	}
	switch method {
	case "generateContent":
		handleGeminiGenerate(c, model, false)
	case "streamGenerateContent":
		handleGeminiGenerate(c, model, true)
	case "countTokens":
		handleGeminiCount(c)
	case "embedContent":
		handleGeminiEmbed(c, model, false)
	case "batchEmbedContents":
		handleGeminiEmbed(c, model, true)
	default:
		c.fail(&apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("Method not found: %s.", method)})
	}
}

// decodeGemini decodes the body strictly into v, answering Google's 400 otherwise.
func decodeGemini(c *call, v any) bool {
	dec := json.NewDecoder(strings.NewReader(string(c.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		c.fail(googleBadRequest("Invalid JSON payload received. " + err.Error()))
		return false
	}
	return true
}

// geminiModel is one entry of the model list.
type geminiModel struct {
	Name                       string   `json:"name"`
	Version                    string   `json:"version"`
	DisplayName                string   `json:"displayName"`
	InputTokenLimit            int      `json:"inputTokenLimit"`
	OutputTokenLimit           int      `json:"outputTokenLimit"`
	SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
}

func newGeminiModel(id string) geminiModel {
	return geminiModel{Name: "models/" + id, Version: "001", DisplayName: id, InputTokenLimit: 1048576,
		OutputTokenLimit: 65536, SupportedGenerationMethods: []string{"generateContent", "countTokens",
			"embedContent", "batchEmbedContents"}}
}

func handleGeminiModels(c *call) {
	list := struct {
		Models []geminiModel `json:"models"`
	}{Models: []geminiModel{}}
	for _, m := range c.s.opts.Models {
		if m != "*" {
			list.Models = append(list.Models, newGeminiModel(m))
		}
	}
	c.respond(list, 0)
}

func handleGeminiModel(c *call) {
	id := strings.TrimPrefix(c.r.URL.Path, geminiPrefix)
	if id == "" || !c.s.servesModel(id) {
		c.fail(&apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("models/%s is not found for API version v1beta.", id)})
		return
	}
	c.respond(newGeminiModel(id), 0)
}
