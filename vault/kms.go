package vault

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/hashivault"
	_ "gocloud.dev/secrets/localsecrets" // Registers base64key://.
)

// cloudKMS are the cloud KMS schemes, each registered by its own file (kms_awskms.go,
// ...) unless the build tag no<scheme> leaves it out. A lean build is for memory: Go
// runs the init of every linked package, used or not, and the three cloud SDKs' 88
// package inits cost ~6 MB of resident binary pages and 1.3 MB of heap at start. The
// default build has them all.
var cloudKMS = map[string]bool{"awskms": false, "gcpkms": false, "azurekeyvault": false}

// KMSKEK is a root key held by a key management service, reached through a
// gocloud.dev/secrets keeper. The secrets API has no AAD, so Wrap binds the AAD by
// encrypting SHA-256(AAD) together with the data key, and Unwrap checks it.
type KMSKEK struct {
	id     string
	keeper *secrets.Keeper
}

var _ KEK = (*KMSKEK)(nil)

// OpenKMS opens the KMS key named by a gocloud.dev/secrets URL. hashivault:// reads its
// server and token from VAULT_ADDR (or VAULT_SERVER_URL) and VAULT_TOKEN (or
// VAULT_SERVER_TOKEN) through getenv (nil means os.Getenv); the cloud drivers use their
// SDKs' usual credential chains. Errors never repeat the URL, which for base64key://
// is the key itself.
func OpenKMS(ctx context.Context, rawURL string, getenv func(string) string) (*KMSKEK, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("vault: %s is not a URL (want hashivault://, awskms://, gcpkms://, azurekeyvault:// or base64key://)", kmsEnv)
	}
	if linked, cloud := cloudKMS[u.Scheme]; cloud && !linked {
		return nil, fmt.Errorf("vault: %s names %s://, but this tollgate was built without that driver (build tag no%s); use a default build",
			kmsEnv, u.Scheme, u.Scheme)
	}
	var keeper *secrets.Keeper
	if u.Scheme == hashivault.Scheme {
		keeper, err = openHashiVault(u, getenv)
	} else {
		keeper, err = secrets.OpenKeeper(ctx, rawURL)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: opening the %s key of %s: %s", u.Scheme, kmsEnv, redactURL(err, rawURL, u.Scheme))
	}
	sum := sha256.Sum256([]byte("tollgate kms id v1|" + rawURL))
	return &KMSKEK{id: "kms:" + hex.EncodeToString(sum[:6]), keeper: keeper}, nil
}

// openHashiVault opens a Vault transit key with settings read through getenv, unlike
// the driver's default opener, which reads the process environment once per process.
func openHashiVault(u *url.URL, getenv func(string) string) (*secrets.Keeper, error) {
	addr := firstNonEmpty(getenv("VAULT_SERVER_URL"), getenv("VAULT_ADDR"))
	if addr == "" {
		return nil, errors.New("set VAULT_ADDR to the Vault server's address")
	}
	client, err := vaultapi.NewClient(&vaultapi.Config{Address: addr})
	if err != nil {
		return nil, err
	}
	client.SetToken(firstNonEmpty(getenv("VAULT_SERVER_TOKEN"), getenv("VAULT_TOKEN")))
	opts := &hashivault.KeeperOptions{Engine: u.Query().Get("engine")}
	return hashivault.OpenKeeper(client, path.Join(u.Host, u.Path), opts), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// redactURL returns err's text with the URL taken out; for base64key:// the cause is
// dropped altogether, since any part of it could echo the key.
func redactURL(err error, rawURL, scheme string) string {
	if scheme == "base64key" {
		return "not a valid base64key:// URL (want base64key://<base64 of 32 bytes>)"
	}
	return strings.ReplaceAll(err.Error(), rawURL, scheme+"://…")
}

// ID returns "kms:" and 12 hex digits of a hash of the URL.
func (k *KMSKEK) ID() string { return k.id }

// String names the key without its URL.
func (k *KMSKEK) String() string { return "KMSKEK(" + k.id + ")" }

// Close releases the keeper.
func (k *KMSKEK) Close() error { return k.keeper.Close() }

// Wrap encrypts SHA-256(aad) | dek with the KMS key.
func (k *KMSKEK) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	sum := sha256.Sum256(aad)
	pt := append(sum[:], dek...)
	defer clear(pt)
	out, err := k.keeper.Encrypt(ctx, pt)
	if err != nil {
		return nil, fmt.Errorf("vault: KMS encrypt with %s: %w", k.id, err)
	}
	return out, nil
}

// Unwrap decrypts a wrapped key and checks that it was wrapped for aad.
func (k *KMSKEK) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	pt, err := k.keeper.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("vault: KMS decrypt with %s: %w", k.id, err)
	}
	sum := sha256.Sum256(aad)
	if len(pt) < len(sum) || subtle.ConstantTimeCompare(pt[:len(sum)], sum[:]) != 1 {
		clear(pt)
		return nil, errors.New("vault: the KMS-wrapped key belongs to another row")
	}
	dek := append([]byte(nil), pt[len(sum):]...)
	clear(pt)
	return dek, nil
}
