package bedrock

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/schema"
)

// TestSigV4TestVectors signs requests from AWS's Signature Version 4 test suite
// (aws-sig-v4-test-suite: example credentials, region us-east-1, service "service",
// 2015-08-30T12:36:00Z) and compares the Authorization header with the published one.
func TestSigV4TestVectors(t *testing.T) {
	const scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	tests := []struct {
		name, method, url string
		want              string
	}{
		{"get-vanilla", http.MethodGet, "https://example.amazonaws.com/",
			scope + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", http.MethodPost, "https://example.amazonaws.com/",
			scope + "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"post-vanilla-query", http.MethodPost, "https://example.amazonaws.com/?Param1=value1",
			scope + "SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
		{"get-vanilla-query-order-key-case", http.MethodGet, "https://example.amazonaws.com/?Param2=value2&Param1=value1",
			scope + "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	key := schema.NewSecret("AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := authorize(context.Background(), req, nil, key, "us-east-1", "service", at); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Authorization"); got != tt.want {
				t.Errorf("Authorization\n got %s\nwant %s", got, tt.want)
			}
			if req.Header.Get("X-Amz-Date") != "20150830T123600Z" {
				t.Errorf("X-Amz-Date = %q", req.Header.Get("X-Amz-Date"))
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		secret          string
		sigv4           bool
		akid, sk, token string
	}{
		{"AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
		{"ASIAEXAMPLE:secret+/=:FwoGZXIvYXdzEBYaDH//token==", true, "ASIAEXAMPLE", "secret+/=", "FwoGZXIvYXdzEBYaDH//token=="},
		{testAPIKey, false, "", "", ""},
		{"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", false, "", "", ""},
		{"a:b:c:d", false, "", "", ""},
		{":secret", false, "", "", ""},
		{"akid:", false, "", "", ""},
	}
	for _, tt := range tests {
		c, ok := credentials(schema.NewSecret(tt.secret))
		if ok != tt.sigv4 || c.AccessKeyID != tt.akid || c.SecretAccessKey != tt.sk || c.SessionToken != tt.token {
			t.Errorf("credentials(%.12s...) = %v %v", tt.secret, ok, c.AccessKeyID)
		}
	}
}

// TestAuthorizeHeaders checks the headers each kind of secret produces: a bearer token
// for an API key; for IAM credentials a SigV4 signature of service bedrock over the
// content type, host and date (and the session token when there is one).
func TestAuthorizeHeaders(t *testing.T) {
	at := time.Date(2026, 8, 21, 12, 0, 0, 0, time.UTC)
	newReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "https://bedrock-runtime.us-west-2.amazonaws.com/model/"+escapeSegment(testModel)+"/converse", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	req := newReq()
	if err := authorize(context.Background(), req, []byte("{}"), schema.NewSecret(testAPIKey), testRegion, signingName, at); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Authorization") != "Bearer "+testAPIKey || req.Header.Get("X-Amz-Date") != "" {
		t.Errorf("API key: Authorization %q", req.Header.Get("Authorization"))
	}
	req = newReq()
	if err := authorize(context.Background(), req, []byte("{}"), schema.NewSecret(testIAMKey+":TOKEN123"), testRegion, signingName, at); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/20260821/us-west-2/bedrock/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token, Signature=") {
		t.Errorf("IAM: Authorization %q", auth)
	}
	if strings.Contains(auth, testSecretKey) || req.Header.Get("X-Amz-Security-Token") != "TOKEN123" {
		t.Errorf("IAM: the secret leaked or the token is missing: %v", req.Header)
	}
}
