package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"sync"
)

// Hasher computes HMAC-SHA256 of keys under the server secret. The secret itself is
// sealed in the vault; only the hash of a key is ever stored.
type Hasher struct {
	pool sync.Pool
}

// NewHasher returns a hasher for a server secret of at least 32 bytes.
func NewHasher(secret []byte) *Hasher {
	s := append([]byte(nil), secret...)
	return &Hasher{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, s) }}}
}

// Sum returns the HMAC of key.
func (h *Hasher) Sum(key string) []byte {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(key))
	out := m.Sum(nil)
	h.pool.Put(m)
	return out
}

// equal compares two hashes in constant time.
func equal(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}
