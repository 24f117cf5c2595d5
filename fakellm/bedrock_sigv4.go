package fakellm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// This file verifies AWS Signature Version 4 independently of the AWS SDK that
// providers/bedrock signs with, so that a signing bug cannot hide behind a shared
// implementation. It follows AWS's "Create a signed AWS API request" guide for non-S3
// services: the path is URI-encoded a second time in the canonical request.

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateLayout  = "20060102T150405Z"
	// sigV4MaxSkew is how far x-amz-date may be from the fake's clock; AWS allows
	// 5 minutes, the fake is more lenient for slow test machines.
	sigV4MaxSkew = 15 * time.Minute
)

// Why a SigV4 request was refused; each maps to the exception AWS answers with.
var (
	errSigMalformed = errors.New("IncompleteSignatureException")
	errSigUnknown   = errors.New("UnrecognizedClientException")
	errSigMismatch  = errors.New("InvalidSignatureException")
)

// sigV4Auth is a parsed Authorization header.
type sigV4Auth struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

// parseSigV4 reads "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex".
func parseSigV4(h string) (sigV4Auth, error) {
	var a sigV4Auth
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return a, errSigMalformed
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return a, errSigMalformed
		}
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" || scope[2] == "" {
		return a, errSigMalformed
	}
	a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	a.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	a.signature = fields["Signature"]
	if len(a.signature) != 64 || !sort.StringsAreSorted(a.signedHeaders) ||
		!contains(a.signedHeaders, "host") || !contains(a.signedHeaders, "x-amz-date") {
		return a, errSigMalformed
	}
	return a, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// verifySigV4 checks r's signature for service against secret. rawPath is the path as
// sent on the wire (escapes intact); body is the whole payload.
func verifySigV4(r *http.Request, rawPath string, body []byte, a sigV4Auth, service, secret string, now time.Time) error {
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateLayout, amzDate)
	switch {
	case err != nil || a.service != service || a.date != amzDate[:8]:
		return errSigMalformed
	case t.Sub(now) > sigV4MaxSkew || now.Sub(t) > sigV4MaxSkew:
		return errSigMismatch
	}
	canonical, ok := canonicalRequest(r, rawPath, body, a.signedHeaders)
	if !ok {
		return errSigMalformed
	}
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	toSign := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	key := hmacSHA256([]byte("AWS4"+secret), a.date)
	for _, part := range []string{a.region, a.service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return errSigMismatch
	}
	return nil
}

// canonicalRequest builds SigV4's canonical request; ok is false when a signed header
// is missing.
func canonicalRequest(r *http.Request, rawPath string, body []byte, signed []string) (string, bool) {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	if rawPath == "" {
		rawPath = "/"
	}
	b.WriteString(uriEncode(rawPath, false) + "\n")
	b.WriteString(canonicalQuery(r.URL.RawQuery) + "\n")
	for _, name := range signed {
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		default:
			values = r.Header.Values(name)
		}
		if len(values) == 0 {
			return "", false
		}
		for i, v := range values {
			values[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name + ":" + strings.Join(values, ",") + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = hexSHA256(body)
	}
	b.WriteString(payload)
	return b.String(), true
}

func canonicalQuery(raw string) string {
	q, _ := url.ParseQuery(raw)
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&")
}

// uriEncode percent-encodes every byte but the unreserved ones (and '/' unless
// encodeSlash), as SigV4's UriEncode does.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '~',
			c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
