package fakellm

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// bedrock is the AWS Bedrock Runtime dialect: POST /model/{modelId}/converse,
// /model/{modelId}/converse-stream (a binary application/vnd.amazon.eventstream
// answer) and /model/{modelId}/invoke for Amazon Titan Text Embeddings and Cohere
// Embed (with the X-Amzn-Bedrock-Input-Token-Count header). The model id
// is the path segment, percent-decoded (the AWS SDKs send ':' as %3A).
//
// Requests carry a Bedrock API key as "Authorization: Bearer", or an AWS Signature
// Version 4 for service "bedrock". Options.Keys then lists IAM credentials as
// "ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]": the fake recomputes the signature
// over the method, the path as sent, the query, the signed headers and the body's
// SHA-256 with that secret (bedrock_sigv4.go, independent of the AWS SDK), checks the
// scope and that x-amz-date is within 15 minutes, and checks the session token; the
// request's key is then the whole configured credential. With no Options.Keys a
// well-formed signature is accepted unverified. Refusals are AWS's 403s:
// MissingAuthenticationTokenException, UnrecognizedClientException,
// InvalidSignatureException, IncompleteSignatureException.
//
// Errors are {"message": ...} with the exception named in x-amzn-ErrorType
// (ValidationException 400, AccessDeniedException 403, ModelTimeoutException 408,
// ModelErrorException 424, ThrottlingException 429, InternalServerException 500,
// ServiceUnavailableException 503). Bedrock sends no rate-limit headers. Streams carry
// exceptions as frames with :message-type exception (error_midstream).
type bedrock struct {
	keys []string
}

var _ dialect = bedrock{}

func newBedrock(opts Options) bedrock { return bedrock{keys: opts.Keys} }

// refusalPrefix marks a credential the fake refused, with the exception to answer. No
// configured key can start with it.
const refusalPrefix = "\x00refused:"

func (bedrock) routes() []route {
	return []route{{method: http.MethodPost, path: "/model/", prefix: true, handle: handleBedrock}}
}

func (b bedrock) credential(r *http.Request) string {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, tok, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	if auth == "" {
		return ""
	}
	a, err := parseSigV4(auth)
	if err != nil {
		return refusalPrefix + err.Error()
	}
	key, secret, token := b.lookup(a.accessKey)
	if key == "" {
		if len(b.keys) == 0 {
			return a.accessKey
		}
		return refusalPrefix + errSigUnknown.Error()
	}
	if err := verifySigV4(r, rawPath(r), peekBody(r), a, "bedrock", secret, time.Now()); err != nil {
		return refusalPrefix + err.Error()
	}
	if token != "" && r.Header.Get("X-Amz-Security-Token") != token {
		return refusalPrefix + errSigUnknown.Error()
	}
	return key
}

// lookup finds the configured IAM credential with accessKey.
func (b bedrock) lookup(accessKey string) (key, secret, token string) {
	for _, k := range b.keys {
		parts := strings.Split(k, ":")
		if (len(parts) == 2 || len(parts) == 3) && parts[0] == accessKey {
			if len(parts) == 3 {
				token = parts[2]
			}
			return k, parts[1], token
		}
	}
	return "", "", ""
}

// rawPath is the request path as it was sent, escapes intact.
func rawPath(r *http.Request) string {
	if p, _, _ := strings.Cut(r.RequestURI, "?"); strings.HasPrefix(p, "/") {
		return p
	}
	return r.URL.EscapedPath()
}

// peekBody reads the body for the signature and puts it back for the handler.
func peekBody(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	return b
}

func (bedrock) setHeaders(c *call) {
	c.w.Header().Set("x-amzn-RequestId", c.id)
}

// bedrockExceptions are the exception names of the statuses the fake answers.
var bedrockExceptions = map[int]string{
	http.StatusBadRequest: "ValidationException", http.StatusForbidden: "AccessDeniedException",
	http.StatusNotFound: "ResourceNotFoundException", http.StatusRequestTimeout: "ModelTimeoutException",
	http.StatusFailedDependency: "ModelErrorException", http.StatusTooManyRequests: "ThrottlingException",
	http.StatusInternalServerError: "InternalServerException", http.StatusServiceUnavailable: "ServiceUnavailableException",
}

var authMessages = map[string]string{
	"MissingAuthenticationTokenException": "Missing Authentication Token",
	"UnrecognizedClientException":         "The security token included in the request is invalid.",
	"InvalidSignatureException":           "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
	"IncompleteSignatureException":        "The request signature does not conform to AWS standards.",
}

// bedrockException names the exception and status that answer e.
func bedrockException(c *call, e *apiError) (int, string, string) {
	switch {
	case e.Status == http.StatusUnauthorized:
		name := "UnrecognizedClientException"
		if c.key == "" {
			name = "MissingAuthenticationTokenException"
		} else if r, ok := strings.CutPrefix(c.key, refusalPrefix); ok {
			name = r
		}
		return http.StatusForbidden, name, authMessages[name]
	case e.Status == http.StatusNotFound && e.Code == "":
		return e.Status, "UnknownOperationException", "The requested operation is not recognized by the service."
	case e.Status == http.StatusTooManyRequests:
		return e.Status, "ThrottlingException", "Too many requests, please wait before trying again."
	}
	name, ok := bedrockExceptions[e.Status]
	switch {
	case ok:
	case e.Status >= 500:
		name = "InternalServerException"
	default:
		name = "ValidationException"
	}
	return e.Status, name, e.Message
}

func (bedrock) writeError(c *call, e *apiError) {
	status, name, msg := bedrockException(c, e)
	c.w.Header().Set("x-amzn-ErrorType", name+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	c.writeJSON(status, map[string]string{"message": msg})
}

func errValidation(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Message: msg}
}

// handleBedrock routes /model/{modelId}/{operation}.
func handleBedrock(c *call) {
	if strings.HasPrefix(c.key, refusalPrefix) {
		c.fail(errUnauthorized(false))
		return
	}
	parts := strings.Split(rawPath(c.r), "/")
	if len(parts) != 4 || parts[2] == "" {
		c.fail(&apiError{Status: http.StatusNotFound})
		return
	}
	model, err := url.PathUnescape(parts[2])
	if err != nil || !c.s.servesModel(model) {
		c.fail(errValidation("The provided model identifier is invalid."))
		return
	}
	switch parts[3] {
	case "converse":
		handleConverse(c, model, false)
	case "converse-stream":
		handleConverse(c, model, true)
	case "invoke":
		handleInvoke(c, model)
	default:
		c.fail(&apiError{Status: http.StatusNotFound})
	}
}
