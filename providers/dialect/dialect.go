// Package dialect is the plumbing the translating dialects (anthropic, bedrock, cohere,
// gemini) share: checking a base URL, the headers every request carries, one POST
// round trip with its status mapping, bounded body reads, the error shapes they have in
// common, and the read loop of an SSE stream that is translated into queued chunks.
// What a dialect sends and how it reads the answer stays in the dialect's own package.
package dialect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers/httpclient"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// MaxErrorBody bounds what is read of a non-2xx answer: only its first bytes matter.
const MaxErrorBody = 1 << 20

// Origin returns base, or def when base is empty, without trailing slashes. ok is false
// when it is not an absolute http or https URL free of query and fragment.
func Origin(base, def string) (origin string, ok bool) {
	if base == "" {
		base = def
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return strings.TrimRight(base, "/"), true
}

// Header returns the headers every request of a provider carries: the operator's extra
// headers, canonicalised, and Content-Type application/json, which they cannot replace.
func Header(extra map[string]string) http.Header {
	h := make(http.Header, len(extra)+3)
	for k, v := range extra {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	return h
}

// Client returns hc, or the shared default client when the config gave none.
func Client(hc *http.Client) *http.Client {
	if hc == nil {
		return httpclient.Default()
	}
	return hc
}

// NewPost builds a POST of body to target that carries a copy of h, for the caller to
// add its credential to.
func NewPost(ctx context.Context, target string, h http.Header, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, apierr.From(err)
	}
	req.Header = h.Clone()
	return req, nil
}

// Do sends req through hc and returns a 2xx response for the caller to read and close. A
// failure to send is openai.TransportError naming only base's host; any other answer is
// turned into the error by fail, then closed.
func Do(ctx context.Context, hc *http.Client, req *http.Request, base string, key schema.Secret,
	fail func(resp *http.Response) *apierr.Error) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, openai.TransportError(ctx, err, base, key)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, fail(resp)
}

// ErrorBody reads a non-2xx answer's body, up to MaxErrorBody bytes. A body that is
// longer or cannot be read in full is nil: the status alone still makes an error.
func ErrorBody(r io.Reader) []byte {
	b, _ := ReadAll(r, MaxErrorBody)
	return b
}

// ErrTooLarge is the cause ReadAll returns for a body over its limit.
var ErrTooLarge = errors.New("upstream body over the size limit")

// ReadAll reads r in full, up to limit bytes; a longer body is ErrTooLarge.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// ReadError maps a failure of ReadAll on an answer from base: a body over the limit is a
// 502, anything else a transport error.
func ReadError(ctx context.Context, err error, base string, key schema.Secret) *apierr.Error {
	if errors.Is(err, ErrTooLarge) {
		return apierr.Upstream("upstream response is larger than the limit").WithCause(err)
	}
	return openai.TransportError(ctx, err, base, key)
}

// DecodeChat decodes the client's OpenAI chat request.
func DecodeChat(body []byte) (*schema.ChatRequest, error) {
	var req schema.ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, apierr.InvalidJSON("the request body is not a valid chat completion request").WithCause(err)
	}
	return &req, nil
}

// Encode marshals an upstream request body.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, apierr.From(err)
	}
	return b, nil
}

// Unsupported is the answer for an endpoint the named dialect has no equivalent of.
func Unsupported(dialect string, ep schema.Endpoint) *apierr.Error {
	return apierr.New(apierr.KindCaller, http.StatusBadRequest, "invalid_request_error", "unsupported_endpoint",
		fmt.Sprintf("the %s provider does not support the %s endpoint", dialect, ep))
}

// HasMediaType reports whether a Content-Type is of the media type want, with or
// without parameters, in any case.
func HasMediaType(contentType, want string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), want)
}
