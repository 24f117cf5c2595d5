package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// MetaStore is the part of the store the vault needs at start.
type MetaStore interface {
	GetMeta(ctx context.Context, name string) ([]byte, error)
	PutMetaIfAbsent(ctx context.Context, name string, value []byte) ([]byte, error)
}

// ErrNoMasterKey stops a start that has no master key but finds sealed data.
var ErrNoMasterKey = errors.New("no master key")

const (
	canaryName    = "vault_canary"
	canaryText    = "tollgate vault canary v1"
	masterKeyEnv  = "TOLLGATE_MASTER_KEY"
	kmsEnv        = "TOLLGATE_KMS_URL"
	defaultKeyDir = "."
)

// BootOptions say where the root key comes from.
type BootOptions struct {
	// KMSURL is TOLLGATE_KMS_URL, a gocloud.dev/secrets URL; when set it is the root key
	// and the master key is not read.
	KMSURL string
	// Getenv reads the KMS settings (VAULT_ADDR, VAULT_TOKEN, ...); nil means os.Getenv.
	Getenv func(string) string
	// MasterKey is the base64 value of TOLLGATE_MASTER_KEY, empty when unset.
	MasterKey string
	// KeyFile is the path of the generated key file, "./tollgate.key" by default.
	KeyFile string
	// IsNotFound reports whether a store error means "no such row".
	IsNotFound func(error) bool
	// Notice receives the loud message printed when a key is generated.
	Notice func(msg string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PreviousKMSURL and PreviousMasterKey name the root key the store was sealed with
	// when the root changes (TOLLGATE_PREVIOUS_KMS_URL, TOLLGATE_PREVIOUS_MASTER_KEY):
	// Boot re-wraps the keyring from it to the new root. Empty when the root is unchanged.
	PreviousKMSURL    string
	PreviousMasterKey string
}

// Boot opens the vault for a store, failing closed:
//   - TOLLGATE_KMS_URL wins, then TOLLGATE_MASTER_KEY, then the key file;
//   - with none, a key is generated into the key file only if the store holds no
//     sealed data yet (the first start);
//   - the root key must open every keyring version and the store's canary, or the
//     start stops with a clear message.
func Boot(ctx context.Context, st Store, opts BootOptions) (*Vault, error) {
	if opts.KeyFile == "" {
		opts.KeyFile = defaultKeyDir + "/tollgate.key"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	canary, err := st.GetMeta(ctx, canaryName)
	haveCanary := err == nil
	if err != nil && !opts.IsNotFound(err) {
		return nil, fmt.Errorf("vault: reading canary: %w", err)
	}
	recs, err := st.ListKEKs(ctx)
	if err != nil {
		return nil, fmt.Errorf("vault: reading the keyring: %w", err)
	}
	root, err := openRoot(ctx, opts, haveCanary || len(recs) > 0)
	if err != nil {
		return nil, err
	}
	v := &Vault{current: root, byID: map[string]KEK{root.ID(): root},
		ring: &ring{store: st, root: root, now: opts.Now, infos: map[string]KEKInfo{}}}
	if err := v.load(ctx, recs); err != nil {
		if recs, err = v.rekey(ctx, recs, opts, err); err != nil {
			return nil, cannotOpen(root, opts, err)
		}
	}
	if len(recs) == 0 {
		if _, err := v.addVersion(ctx); err != nil {
			return nil, err
		}
	}
	return v, v.checkCanary(ctx, st, canary, haveCanary, opts)
}

// checkCanary opens the store's canary, writing it first on a fresh store.
func (v *Vault) checkCanary(ctx context.Context, st Store, canary []byte, have bool, opts BootOptions) error {
	aad := RowAAD("meta", canaryName, "value")
	if !have {
		sealed, err := v.Seal(ctx, []byte(canaryText), aad)
		if err != nil {
			return err
		}
		if canary, err = st.PutMetaIfAbsent(ctx, canaryName, sealed); err != nil {
			return fmt.Errorf("vault: writing canary: %w", err)
		}
	}
	pt, err := v.Open(ctx, canary, aad)
	if err != nil || !bytes.Equal(pt, []byte(canaryText)) {
		id, _ := KEKOf(canary)
		return cannotOpen(v.ring.root, opts, fmt.Errorf("the canary was sealed with KEK %q", id))
	}
	return nil
}

// cannotOpen is the clear message of a root key that cannot open the store's data.
func cannotOpen(root KEK, opts BootOptions, cause error) error {
	if opts.KMSURL != "" {
		return fmt.Errorf("the KMS key %s (%s) cannot open the data in this store (%v): "+
			"set %s to the KMS key this store was created with, and check the KMS credentials; "+
			"tollgate will not start without it", root.ID(), kmsEnv, cause, kmsEnv)
	}
	return fmt.Errorf("the master key (KEK %s) cannot open the data in this store (%v): "+
		"set %s or restore the key file %s that this store was created with; tollgate will not start without it",
		root.ID(), cause, masterKeyEnv, opts.KeyFile)
}

// openRoot returns the root key: the KMS key, or the local master key.
func openRoot(ctx context.Context, opts BootOptions, haveData bool) (KEK, error) {
	if opts.KMSURL != "" {
		return OpenKMS(ctx, opts.KMSURL, opts.Getenv)
	}
	key, err := loadMasterKey(opts, haveData)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return NewLocalKEK(key)
}

func loadMasterKey(opts BootOptions, haveData bool) ([]byte, error) {
	if opts.MasterKey != "" {
		return decodeMasterKey(opts.MasterKey, masterKeyEnv)
	}
	b, err := os.ReadFile(opts.KeyFile)
	if err == nil {
		return decodeMasterKey(string(b), opts.KeyFile)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("vault: reading master key file: %w", err)
	}
	if haveData {
		return nil, fmt.Errorf("%w: the store holds sealed data but neither %s nor %s is present; "+
			"set %s to the master key this store was created with", ErrNoMasterKey, masterKeyEnv, opts.KeyFile, masterKeyEnv)
	}
	return generateKeyFile(opts)
}

func generateKeyFile(opts BootOptions) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(opts.KeyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: creating master key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("vault: writing master key file: %w", err)
	}
	if opts.Notice != nil {
		opts.Notice("GENERATED A NEW MASTER KEY in " + opts.KeyFile + " (mode 0600). Every secret in the store is sealed " +
			"with it: back it up, or set " + masterKeyEnv + " to its contents. Without it the data cannot be opened.")
	}
	return key, nil
}

func decodeMasterKey(s, source string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("vault: the master key from %s must be the base64 encoding of 32 bytes "+
			"(generate one with: head -c 32 /dev/urandom | base64)", source)
	}
	return key, nil
}
