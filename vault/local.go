package vault

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// LocalKEK is a KEK held in process memory: the master key from TOLLGATE_MASTER_KEY or
// the key file. Its id is derived from the key, so two replicas with the same master key
// agree on it and a different key is recognised as different without trial decryption.
type LocalKEK struct {
	id  string
	key []byte
}

var _ KEK = (*LocalKEK)(nil)

// NewLocalKEK returns a KEK for a 32-byte master key.
func NewLocalKEK(key []byte) (*LocalKEK, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("vault: master key must be 32 bytes, got %d", len(key))
	}
	return newAESKEK("local:", key), nil
}

// newAESKEK returns an AES-256-GCM KEK whose id is prefix and 12 hex digits of an HMAC
// of the key.
func newAESKEK(prefix string, key []byte) *LocalKEK {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("tollgate kek id v1"))
	return &LocalKEK{id: prefix + hex.EncodeToString(mac.Sum(nil)[:6]), key: append([]byte(nil), key...)}
}

// ID returns the key's id, "local:" and 12 hex digits of an HMAC of the key.
func (k *LocalKEK) ID() string { return k.id }

// String hides the key material.
func (k *LocalKEK) String() string { return "LocalKEK(" + k.id + ")" }

// Wrap encrypts dek with AES-256-GCM under the master key.
func (k *LocalKEK) Wrap(_ context.Context, dek, aad []byte) ([]byte, error) {
	gcm, err := newGCM(k.key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, dek, aad), nil
}

// Unwrap decrypts a wrapped data key.
func (k *LocalKEK) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	gcm, err := newGCM(k.key)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < gcm.NonceSize() {
		return nil, errors.New("vault: wrapped key too short")
	}
	return gcm.Open(nil, wrapped[:gcm.NonceSize()], wrapped[gcm.NonceSize():], aad)
}
