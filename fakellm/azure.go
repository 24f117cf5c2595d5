package fakellm

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// azure is the Azure OpenAI dialect. The classic routes are deployment-scoped,
// POST /openai/deployments/{deployment}/{chat/completions|completions|embeddings}
// ?api-version=YYYY-MM-DD[-preview], where the deployment stands for the model (the
// body's model is ignored, as Azure ignores it); a missing api-version answers 404
// "Resource not found", as Azure does, and stream_options before 2024-09-01 a 400. The
// v1 routes, POST /openai/v1/..., take the deployment name as the body's model and an
// optional api-version of v1 or preview.
//
// The key travels in api-key (an Entra ID token as Authorization: Bearer is accepted
// too). Answers are the OpenAI dialect's with Azure's annotations: prompt_filter_results
// on completions, content_filter_results on every choice, and a stream that opens with a
// chunk whose choices are empty and whose id, model and object are "", carrying only
// prompt_filter_results. Errors use Azure's bodies: {"error":{"code":"401",...}} for a
// bad key, "404" for an unknown route, DeploymentNotFound, and "429" with retry-after
// and retry-after-ms; validation errors keep OpenAI's shape.
//
// The header X-Fake-Azure-Filter selects Azure's content filter: "prompt" rejects the
// prompt with the 400 content_filter error (innererror ResponsibleAIPolicyViolation),
// "completion" ends the answer with finish_reason "content_filter".
type azure struct{}

var _ dialect = azure{}

const azureRegion = "East US"

// azureStreamOptionsSince is the first api-version that accepts stream_options.
const azureStreamOptionsSince = "2024-09-01"

var azureVersion = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$`)

func (azure) routes() []route {
	return []route{
		{method: http.MethodPost, path: "/openai/deployments/", prefix: true, handle: handleAzureDeployment},
		{method: http.MethodPost, path: "/openai/v1/chat/completions", handle: azureV1(handleChat)},
		{method: http.MethodPost, path: "/openai/v1/completions", handle: azureV1(handleCompletions)},
		{method: http.MethodPost, path: "/openai/v1/embeddings", handle: azureV1(handleEmbeddings)},
	}
}

func (azure) credential(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("api-key")); k != "" {
		return k
	}
	return openAI{}.credential(r)
}

func (azure) setHeaders(c *call) {
	h := c.w.Header()
	h.Set("x-request-id", c.id)
	h.Set("apim-request-id", c.id)
	h.Set("x-ms-region", azureRegion)
	st := c.rate
	h.Set("x-ratelimit-limit-requests", strconv.Itoa(st.limitRequests))
	h.Set("x-ratelimit-remaining-requests", strconv.Itoa(st.remainingRequests))
	h.Set("x-ratelimit-limit-tokens", strconv.Itoa(st.limitTokens))
	h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(st.remainingTokens))
}

// azureError is Azure's own error body, used where Azure's gateway answers before the
// model does.
type azureError struct {
	Error struct {
		Code       string           `json:"code"`
		Message    string           `json:"message"`
		Param      *string          `json:"param,omitempty"`
		Type       json.RawMessage  `json:"type,omitempty"`
		Status     int              `json:"status,omitempty"`
		InnerError *azureInnerError `json:"innererror,omitempty"`
	} `json:"error"`
}

type azureInnerError struct {
	Code                string                       `json:"code"`
	ContentFilterResult map[string]azureFilterResult `json:"content_filter_result"`
}

type azureFilterResult struct {
	Filtered bool   `json:"filtered"`
	Severity string `json:"severity"`
}

func (azure) writeError(c *call, e *apiError) {
	h := c.w.Header()
	var body azureError
	switch e.Status {
	case http.StatusUnauthorized:
		body.Error.Code = "401"
		body.Error.Message = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		if e.Code != "" {
			c.writeJSON(e.Status, newOpenAIError(e))
			return
		}
		body.Error.Code, body.Error.Message = strconv.Itoa(e.Status), "Resource not found"
	case http.StatusTooManyRequests:
		retry := max(int(math.Ceil(e.RetryAfter.Seconds())), 1)
		h.Set("retry-after", strconv.Itoa(retry))
		h.Set("retry-after-ms", strconv.Itoa(retry*1000))
		body.Error.Code = "429"
		body.Error.Message = fmt.Sprintf("Requests to the ChatCompletions_Create Operation under Azure OpenAI API version %s have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after %d seconds.",
			c.r.URL.Query().Get("api-version"), retry)
	default:
		c.writeJSON(e.Status, newOpenAIError(e))
		return
	}
	c.writeJSON(e.Status, body)
}

// errContentFilter is the 400 Azure answers for a prompt its content filter rejects.
func errContentFilter() azureError {
	var body azureError
	param := "prompt"
	body.Error.Code, body.Error.Param, body.Error.Type, body.Error.Status = "content_filter", &param, jsonNull, http.StatusBadRequest
	body.Error.Message = "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
	body.Error.InnerError = &azureInnerError{Code: "ResponsibleAIPolicyViolation", ContentFilterResult: map[string]azureFilterResult{
		"hate": {Severity: "safe"}, "jailbreak": {Severity: "safe"}, "self_harm": {Severity: "safe"},
		"sexual": {Severity: "safe"}, "violence": {Filtered: true, Severity: "medium"},
	}}
	return body
}

// handleAzureDeployment serves the classic deployment-scoped routes.
func handleAzureDeployment(c *call) {
	rest := strings.TrimPrefix(c.r.URL.Path, "/openai/deployments/")
	deployment, op, _ := strings.Cut(rest, "/")
	handlers := map[string]func(*call){"chat/completions": handleChat, "completions": handleCompletions, "embeddings": handleEmbeddings}
	handle, ok := handlers[op]
	version := c.r.URL.Query().Get("api-version")
	switch {
	case !ok || deployment == "" || version == "":
		c.fail(&apiError{Status: http.StatusNotFound})
		return
	case !azureVersion.MatchString(version):
		c.writeJSON(http.StatusBadRequest, azureCode("BadRequest", "API version not supported"))
		return
	case version < azureStreamOptionsSince && gjson.GetBytes(c.body, "stream_options").Exists():
		c.fail(errBadRequest("Unrecognized request argument supplied: stream_options", "", ""))
		return
	case !c.s.servesModel(deployment):
		c.writeJSON(http.StatusNotFound, azureCode("DeploymentNotFound",
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."))
		return
	}
	if b, err := sjson.SetBytes(c.body, "model", deployment); err == nil {
		c.body = b
	}
	azureServe(c, handle)
}

// azureV1 wraps an OpenAI handler for the v1 routes, which take api-version v1 or
// preview, or none.
func azureV1(handle func(*call)) func(*call) {
	return func(c *call) {
		switch c.r.URL.Query().Get("api-version") {
		case "", "v1", "preview":
			azureServe(c, handle)
		default:
			c.writeJSON(http.StatusBadRequest, azureCode("BadRequest", "API version not supported"))
		}
	}
}

func azureCode(code, msg string) azureError {
	var body azureError
	body.Error.Code, body.Error.Message = code, msg
	return body
}

// azureServe runs an OpenAI handler with Azure's annotations added to what it writes.
func azureServe(c *call, handle func(*call)) {
	filter := strings.ToLower(strings.TrimSpace(c.r.Header.Get("X-Fake-Azure-Filter")))
	if filter == "prompt" {
		c.writeJSON(http.StatusBadRequest, errContentFilter())
		return
	}
	c.w = &azureWriter{ResponseWriter: c.w, filterCompletion: filter == "completion",
		annotate: !strings.HasSuffix(c.r.URL.Path, "/embeddings")}
	handle(c)
}
