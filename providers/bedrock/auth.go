package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tollgate-llm/tollgate/schema"
)

// signingName is Bedrock Runtime's SigV4 service name (its endpoint prefix is
// bedrock-runtime, but it signs as bedrock).
const signingName = "bedrock"

// signer is stateless and safe for concurrent use; it caches derived signing keys.
var signer = v4.NewSigner()

// credentials reads a provider secret. "ACCESS_KEY_ID:SECRET_ACCESS_KEY" or
// "ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN" are IAM credentials for SigV4; any
// other secret is a Bedrock API key, sent as a bearer token. The two cannot be
// confused: access key ids, secret keys, session tokens and Bedrock API keys are all
// drawn from alphabets without ':'.
func credentials(key schema.Secret) (aws.Credentials, bool) {
	parts := strings.Split(key.Reveal(), ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return aws.Credentials{}, false
	}
	c := aws.Credentials{AccessKeyID: parts[0], SecretAccessKey: parts[1]}
	if len(parts) == 3 {
		c.SessionToken = parts[2]
	}
	return c, true
}

// authorize signs req, whose body is body, with SigV4 for region at now, or sets the
// bearer token. It must run after every other header is set: SigV4 signs them all.
func authorize(ctx context.Context, req *http.Request, body []byte, key schema.Secret, region, service string, now time.Time) error {
	creds, ok := credentials(key)
	if !ok {
		req.Header.Set("Authorization", "Bearer "+key.Reveal())
		return nil
	}
	sum := sha256.Sum256(body)
	return signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, region, now)
}
