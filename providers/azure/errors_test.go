package azure

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// TestUpstreamErrors checks Azure's error answers as a client sees them.
func TestUpstreamErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   apierr.Error
	}{{
		name:   "prompt content filter",
		status: 400,
		body: `{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",` +
			`"type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation",` +
			`"content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}}`,
		want: apierr.Error{Status: 400, Type: "invalid_request_error", Code: "content_filter", Param: "prompt",
			Message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."},
	}, {
		name:   "filter named only by innererror",
		status: 400,
		body:   `{"error":{"message":"filtered","code":"BadRequest","innererror":{"code":"ResponsibleAIPolicyViolation"}}}`,
		want:   apierr.Error{Status: 400, Type: "invalid_request_error", Code: "content_filter", Message: "filtered"},
	}, {
		name:   "bad key",
		status: 401,
		body:   `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}`,
		want: apierr.Error{Status: 401, Type: "authentication_error", Code: "invalid_api_key",
			Message: "Access denied due to invalid subscription key or wrong API endpoint."},
	}, {
		name:   "deployment not found",
		status: 404,
		body:   `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}`,
		want: apierr.Error{Status: 404, Type: "invalid_request_error", Code: "DeploymentNotFound",
			Message: "The API deployment for this resource does not exist."},
	}, {
		name:   "token rate limit with retry-after",
		status: 429,
		header: map[string]string{"retry-after": "7", "retry-after-ms": "6500"},
		body:   `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded token rate limit. Please retry after 7 seconds."}}`,
		want: apierr.Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded", Retryable: true,
			RetryAfter: 6500 * time.Millisecond,
			Message:    "Requests to the ChatCompletions_Create Operation have exceeded token rate limit. Please retry after 7 seconds."},
	}, {
		name:   "429 with only x-ms-retry-after-ms",
		status: 429,
		header: map[string]string{"x-ms-retry-after-ms": "1200"},
		body:   `{"error":{"code":"429","message":"Rate limit is exceeded."}}`,
		want: apierr.Error{Status: 429, Type: "rate_limit_error", Code: "rate_limit_exceeded", Retryable: true,
			RetryAfter: 1200 * time.Millisecond, Message: "Rate limit is exceeded."},
	}, {
		name:   "500",
		status: 500,
		body:   `{"error":{"code":"InternalServerError","message":"The service is temporarily unable to process your request."}}`,
		want: apierr.Error{Status: 500, Type: "upstream_error", Code: "InternalServerError", Retryable: true,
			Message: "The service is temporarily unable to process your request."},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			p := newProvider(t, srv.URL, "", nil)
			for _, stream := range []bool{false, true} {
				var err error
				c := call(schema.EndpointChat, `{"model":"my-route","messages":[{"role":"user","content":"hi"}]}`, false)
				if stream {
					_, err = p.Stream(context.Background(), c)
				} else {
					_, err = p.Complete(context.Background(), c)
				}
				var e *apierr.Error
				if !errors.As(err, &e) {
					t.Fatalf("stream %v: error %v is not an *apierr.Error", stream, err)
				}
				got := apierr.Error{Status: e.Status, Type: e.Type, Code: e.Code, Param: e.Param, Message: e.Message,
					Retryable: e.Retryable, RetryAfter: e.RetryAfter}
				if got != tt.want || e.Kind != apierr.KindProvider {
					t.Errorf("stream %v:\n got %+v\nwant %+v", stream, got, tt.want)
				}
				if strings.Contains(e.Error(), testKey) {
					t.Error("the error reveals the key")
				}
			}
		})
	}
}

func TestMSHeader(t *testing.T) {
	for v, want := range map[string]time.Duration{"250": 250 * time.Millisecond, "": 0, "-1": 0, "0": 0,
		"junk": 0, "1e300": maxRetryAfter, "NaN": 0} {
		if got := msHeader(v); got != want {
			t.Errorf("msHeader(%q) = %v, want %v", v, got, want)
		}
	}
}
