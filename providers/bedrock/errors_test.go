package bedrock

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
)

// TestUpstreamErrors checks Bedrock's error answers as a client sees them: the status
// kept (auth failures become 401), OpenAI's type and code, the message, and the retry
// advice.
func TestUpstreamErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		errorType string // x-amzn-ErrorType
		body      string
		want      apierr.Error
	}{
		{"validation", 400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
			`{"message":"Malformed input request: #: extraneous key [foo] is not permitted"}`,
			apierr.Error{Status: 400, Type: "invalid_request_error", Code: "validation",
				Message: "Malformed input request: #: extraneous key [foo] is not permitted"}},
		{"access denied", 403, "AccessDeniedException", `{"message":"You don't have access to the model with the specified model ID."}`,
			apierr.Error{Status: 403, Type: "permission_error", Code: "access_denied",
				Message: "You don't have access to the model with the specified model ID."}},
		{"unknown access key", 403, "UnrecognizedClientException", `{"message":"The security token included in the request is invalid."}`,
			apierr.Error{Status: 401, Type: "authentication_error", Code: "invalid_api_key",
				Message: "The security token included in the request is invalid."}},
		{"bad signature named in the body", 403, "", `{"__type":"com.amazon.coral.service#InvalidSignatureException","Message":"The request signature we calculated does not match."}`,
			apierr.Error{Status: 401, Type: "authentication_error", Code: "invalid_api_key",
				Message: "The request signature we calculated does not match."}},
		{"model not found", 404, "ResourceNotFoundException", `{"message":"Model not found."}`,
			apierr.Error{Status: 404, Type: "invalid_request_error", Code: "model_not_found", Message: "Model not found."}},
		{"model timeout", 408, "ModelTimeoutException", `{"message":"Model has timed out in processing the request."}`,
			apierr.Error{Status: 408, Type: "invalid_request_error", Code: "model_timeout", Retryable: true,
				Message: "Model has timed out in processing the request."}},
		{"model error", 424, "ModelErrorException", `{"message":"Received error from the model","originalStatusCode":500,"resourceName":"x"}`,
			apierr.Error{Status: 424, Type: "upstream_error", Code: "model_error", Retryable: true,
				Message: "Received error from the model"}},
		{"throttling", 429, "ThrottlingException", `{"message":"Too many requests, please wait before trying again."}`,
			apierr.Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded", Retryable: true,
				Message: "Too many requests, please wait before trying again."}},
		{"model not ready", 429, "ModelNotReadyException", `{"message":"Model is not ready."}`,
			apierr.Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded", Retryable: true, Message: "Model is not ready."}},
		{"internal", 500, "InternalServerException", `{"message":"Internal failure"}`,
			apierr.Error{Status: 500, Type: "upstream_error", Code: "upstream_error", Retryable: true, Message: "Internal failure"}},
		{"unavailable, no body", 503, "ServiceUnavailableException", ``,
			apierr.Error{Status: 503, Type: "upstream_error", Code: "upstream_error", Retryable: true,
				Message: "upstream returned status 503 (ServiceUnavailableException)"}},
		{"key echoed back", 400, "ValidationException", `{"message":"bad key ` + testSecretKey + `"}`,
			apierr.Error{Status: 400, Type: "invalid_request_error", Code: "validation", Message: "bad key [REDACTED]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.errorType != "" {
					w.Header().Set("x-amzn-ErrorType", tt.errorType)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			p := newProvider(t, srv.URL, nil)
			for _, stream := range []bool{false, true} {
				var err error
				call := chatCall(`{"model":"r","messages":[{"role":"user","content":"hi"}]}`, testIAMKey, false)
				if stream {
					_, err = p.Stream(context.Background(), call)
				} else {
					_, err = p.Complete(context.Background(), call)
				}
				var e *apierr.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *apierr.Error", err)
				}
				got := apierr.Error{Status: e.Status, Type: e.Type, Code: e.Code, Message: e.Message, Retryable: e.Retryable}
				if got != tt.want || e.Kind != apierr.KindProvider {
					t.Errorf("stream %v:\n got %+v\nwant %+v", stream, got, tt.want)
				}
				if strings.Contains(e.Error(), testSecretKey) {
					t.Error("the error reveals the secret key")
				}
			}
		})
	}
}

func TestExceptionName(t *testing.T) {
	for in, want := range map[string]string{
		"ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/": "ValidationException",
		"com.amazon.coral.service#ThrottlingException":                             "ThrottlingException",
		" AccessDeniedException ":                                                  "AccessDeniedException",
		"":                                                                         "",
	} {
		if got := exceptionName(in); got != want {
			t.Errorf("exceptionName(%q) = %q, want %q", in, got, want)
		}
	}
	if snake("ServiceQuotaExceededException", "") != "service_quota_exceeded" || snake("", "x") != "x" {
		t.Error("snake")
	}
}
