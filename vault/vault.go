// Package vault seals every secret tollgate writes to its store with envelope encryption:
// a fresh 256-bit data key (DEK) per secret encrypts the value with AES-256-GCM, and a key
// encryption key (KEK) wraps the DEK. The sealed value carries a format version and the
// KEK id, and is bound to its row by additional authenticated data (AAD), so a ciphertext
// copied to another row does not open. Nothing here ever falls back to plaintext.
//
// Sealed format, version 1 (all lengths big-endian):
//
//	version(1) | len(kekID)(1) | kekID | len(wrappedDEK)(2) | wrappedDEK | nonce(12) | ciphertext+tag
//
// The header (version through wrappedDEK) is part of the data's AAD, so a flip of any bit
// anywhere makes Open fail.
//
// Keys, three levels. The root key is what the operator holds: the local master key
// (TOLLGATE_MASTER_KEY or the key file) or a KMS key named by a gocloud.dev/secrets URL
// (TOLLGATE_KMS_URL: hashivault, awskms, gcpkms, azurekeyvault, base64key). The root never
// wraps data keys itself. It wraps the keyring: a table (vault_keks) of KEK versions, each
// 32 random bytes sealed under the root with AAD bound to its row. The newest version is
// the current KEK; data keys are wrapped by keyring KEKs, which live in memory once Boot
// has opened them, so a KMS root costs one KMS call per KEK version at start and none per
// secret.
//
// Rotation (Rotate) adds a new random KEK version, makes it current, and re-wraps the
// keyring rows under the root (which picks up a new KMS key version, if the KMS rotated
// its key). The caller then re-wraps every sealed value in the store with Rewrap; values
// keep opening throughout, because the old versions stay in the keyring. Rotation is
// online: replicas that have not heard of a new version load it from the store the first
// time they meet a value sealed under it (Refresh).
//
// Changing the root key (a new master key, or moving to a KMS) re-wraps only the
// keyring: start with the new root and the old one in TOLLGATE_PREVIOUS_MASTER_KEY or
// TOLLGATE_PREVIOUS_KMS_URL once (see rekey.go).
//
// Values sealed directly under the root by tollgate before the keyring existed still
// open (the root is kept among the KEKs that open), and rotation moves them onto the
// keyring like any other value; rotate once before changing the root of such a store.
//
// Boot fails closed: a root that cannot open the keyring or the canary stops the start
// with a message naming the KEK ids involved, never a key.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// FormatV1 is the only sealed format version so far.
const FormatV1 byte = 1

// ErrOpen is returned when a sealed value cannot be opened: wrong key, wrong row,
// tampering or an unknown format. Its message never includes the value.
var ErrOpen = errors.New("vault: sealed value cannot be opened")

// KEK wraps and unwraps data keys. Implementations: the local master key, and KMS.
type KEK interface {
	// ID names this KEK version; it is stored with every sealed value.
	ID() string
	Wrap(ctx context.Context, dek, aad []byte) ([]byte, error)
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// Vault seals with its current KEK and opens with any KEK it knows. It is safe for
// concurrent use, rotation included.
type Vault struct {
	mu      sync.RWMutex
	current KEK
	byID    map[string]KEK
	// ring is the keyring a booted vault loads and rotates; nil for New's vaults.
	ring *ring
}

// New returns a vault that seals with current and can also open values sealed by older.
// It has no keyring: Rotate and Refresh need a vault from Boot.
func New(current KEK, older ...KEK) *Vault {
	v := &Vault{current: current, byID: map[string]KEK{current.ID(): current}}
	for _, k := range older {
		v.byID[k.ID()] = k
	}
	return v
}

// CurrentKEK returns the id of the KEK new values are sealed with.
func (v *Vault) CurrentKEK() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.current.ID()
}

// currentKEK returns the KEK new values are sealed with.
func (v *Vault) currentKEK() KEK {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.current
}

// kek returns the KEK with id, loading new keyring versions from the store once when
// it is unknown: another replica may have rotated.
func (v *Vault) kek(ctx context.Context, id string) (KEK, bool) {
	v.mu.RLock()
	k, ok := v.byID[id]
	v.mu.RUnlock()
	if ok || v.ring == nil {
		return k, ok
	}
	if err := v.Refresh(ctx); err != nil {
		return nil, false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	k, ok = v.byID[id]
	return k, ok
}

// RowAAD builds the AAD that binds a sealed value to one column of one row.
func RowAAD(table, rowID, column string) []byte {
	return []byte("tollgate/v1|" + table + "|" + rowID + "|" + column)
}

// Seal encrypts plaintext under a fresh data key, bound to aad.
func (v *Vault) Seal(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return nil, fmt.Errorf("vault: generating data key: %w", err)
	}
	defer clear(dek)
	current := v.currentKEK()
	wrapped, err := current.Wrap(ctx, dek, aad)
	if err != nil {
		return nil, fmt.Errorf("vault: wrapping data key: %w", err)
	}
	id := current.ID()
	if len(id) > 255 || len(wrapped) > 65535 {
		return nil, errors.New("vault: KEK id or wrapped key too long")
	}
	header := make([]byte, 0, 4+len(id)+len(wrapped)+12+len(plaintext)+16)
	header = append(header, FormatV1, byte(len(id)))
	header = append(header, id...)
	header = binary.BigEndian.AppendUint16(header, uint16(len(wrapped)))
	header = append(header, wrapped...)
	gcm, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: generating nonce: %w", err)
	}
	out := append(header, nonce...)
	return gcm.Seal(out, nonce, plaintext, dataAAD(aad, header)), nil
}

// Open decrypts a sealed value bound to aad.
func (v *Vault) Open(ctx context.Context, sealed, aad []byte) ([]byte, error) {
	p, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	kek, ok := v.kek(ctx, p.kekID)
	if !ok {
		return nil, fmt.Errorf("%w: unknown KEK %q", ErrOpen, p.kekID)
	}
	dek, err := kek.Unwrap(ctx, p.wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: unwrapping data key with KEK %q", ErrOpen, p.kekID)
	}
	defer clear(dek)
	gcm, err := newGCM(dek)
	if err != nil {
		return nil, ErrOpen
	}
	pt, err := gcm.Open(nil, p.nonce, p.ciphertext, dataAAD(aad, p.header))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// KEKOf returns the id of the KEK that sealed a value.
func KEKOf(sealed []byte) (string, error) {
	p, err := parse(sealed)
	if err != nil {
		return "", err
	}
	return p.kekID, nil
}

// Rewrap re-wraps a sealed value's data key under the current KEK without touching the
// encrypted data. A value already under the current KEK is returned as is.
func (v *Vault) Rewrap(ctx context.Context, sealed, aad []byte) ([]byte, error) {
	pt, err := v.Open(ctx, sealed, aad)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	p, _ := parse(sealed)
	if p.kekID == v.CurrentKEK() {
		return sealed, nil
	}
	return v.Seal(ctx, pt, aad)
}

type parsed struct {
	kekID                              string
	header, wrapped, nonce, ciphertext []byte
}

func parse(b []byte) (parsed, error) {
	var p parsed
	if len(b) < 2 || b[0] != FormatV1 {
		return p, fmt.Errorf("%w: unknown format", ErrOpen)
	}
	n := int(b[1])
	if len(b) < 2+n+2 {
		return p, fmt.Errorf("%w: truncated", ErrOpen)
	}
	p.kekID = string(b[2 : 2+n])
	off := 2 + n
	w := int(binary.BigEndian.Uint16(b[off:]))
	off += 2
	if len(b) < off+w+12+16 {
		return p, fmt.Errorf("%w: truncated", ErrOpen)
	}
	p.wrapped = b[off : off+w]
	p.header = b[:off+w]
	p.nonce = b[off+w : off+w+12]
	p.ciphertext = b[off+w+12:]
	return p, nil
}

func dataAAD(aad, header []byte) []byte {
	out := make([]byte, 0, len(aad)+1+len(header))
	out = append(out, aad...)
	out = append(out, 0)
	return append(out, header...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return cipher.NewGCM(block)
}
