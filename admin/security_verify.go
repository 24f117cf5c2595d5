package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"

	"github.com/tollgate-llm/tollgate/apierr"
)

// ErrBadSignature is the cause of every refused token alert: a missing or malformed
// signature, an unknown key identifier, or a signature that does not verify.
var ErrBadSignature = errors.New("token alert signature does not verify")

// AlertKeys are the public keys whose signatures a token alert may carry, by key
// identifier: GitHub's secret scanning keys (published at
// https://api.github.com/meta/public_keys/secret_scanning), configured, never fetched.
type AlertKeys struct {
	keys map[string]*ecdsa.PublicKey
}

// ParseAlertKeys reads PEM public keys ("-----BEGIN PUBLIC KEY-----", PKIX) by key
// identifier. Each must be an ECDSA P-256 key: that is the algorithm GitHub signs with
// (ECDSA-NIST-P256V1-SHA256), and any other key is a configuration mistake.
func ParseAlertKeys(pems map[string][]byte) (*AlertKeys, error) {
	k := &AlertKeys{keys: make(map[string]*ecdsa.PublicKey, len(pems))}
	ids := make([]string, 0, len(pems))
	for id := range pems {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		pub, err := parseP256(pems[id])
		if err != nil {
			return nil, fmt.Errorf("token alert key %q: %w", id, err)
		}
		k.keys[id] = pub
	}
	return k, nil
}

func parseP256(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New(`not a PEM "PUBLIC KEY" block`)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 public key")
	}
	return ec, nil
}

// Len is the number of keys.
func (k *AlertKeys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.keys)
}

// Verify checks that signature (base64 of an ASN.1 DER ECDSA signature, as in the
// GITHUB-PUBLIC-KEY-SIGNATURE header) signs the SHA-256 of body, exactly as received,
// under the key named keyID. Every failure is the same 401, caused by ErrBadSignature.
func (k *AlertKeys) Verify(keyID, signature string, body []byte) error {
	var pub *ecdsa.PublicKey
	if k != nil {
		pub = k.keys[keyID]
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if pub == nil || err != nil || len(sig) == 0 {
		return badSignature()
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return badSignature()
	}
	return nil
}

func badSignature() error {
	return apierr.New(apierr.KindCaller, 401, "invalid_request_error", "invalid_signature",
		"The token alert is not signed by a configured key (GITHUB-PUBLIC-KEY-IDENTIFIER, GITHUB-PUBLIC-KEY-SIGNATURE).").
		WithCause(ErrBadSignature)
}
