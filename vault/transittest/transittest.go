// Package transittest is a fake HashiCorp Vault transit secrets engine for tests: an
// httptest server that answers the encrypt, decrypt and key rotate calls the way Vault
// does, with named keys, key versions and "vault:vN:" ciphertexts sealed by AES-256-GCM.
package transittest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Server is a running fake transit engine.
type Server struct {
	*httptest.Server
	// Token is the token every request must carry in X-Vault-Token.
	Token string

	mu   sync.Mutex
	keys map[string][][]byte // key name → versions (index 0 is v1)
	// Calls counts the encrypt and decrypt calls answered.
	Calls atomic.Int64
	// Down makes every call answer 503 while true.
	Down atomic.Bool
}

// New starts a fake transit engine mounted at /v1/transit, closed when the test ends.
// Keys are created on first use, as with Vault's "derived: false" auto-create.
func New(t testing.TB) *Server {
	tok := make([]byte, 12)
	rand.Read(tok)
	s := &Server{Token: "hvs." + base64.RawURLEncoding.EncodeToString(tok), keys: map[string][][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Rotate adds a version to key, as POST /v1/transit/keys/<key>/rotate does.
func (s *Server) Rotate(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = append(s.keys[key], newKey())
	return len(s.keys[key])
}

func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.Down.Load() {
		writeErr(w, 503, "Vault is sealed")
		return
	}
	if r.Header.Get("X-Vault-Token") != s.Token {
		writeErr(w, 403, "permission denied")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/transit/")
	if !ok || (r.Method != http.MethodPost && r.Method != http.MethodPut) {
		writeErr(w, 404, "no handler for route "+r.URL.Path)
		return
	}
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && rest != "" && !strings.HasPrefix(rest, "keys/") {
		writeErr(w, 400, "error parsing JSON")
		return
	}
	switch op, name, _ := strings.Cut(rest, "/"); {
	case op == "encrypt":
		s.Calls.Add(1)
		s.encrypt(w, name, body["plaintext"])
	case op == "decrypt":
		s.Calls.Add(1)
		s.decrypt(w, name, body["ciphertext"])
	case op == "keys" && strings.HasSuffix(name, "/rotate"):
		v := s.Rotate(strings.TrimSuffix(name, "/rotate"))
		writeData(w, map[string]any{"latest_version": v})
	default:
		writeErr(w, 404, "unsupported path "+r.URL.Path)
	}
}

func (s *Server) encrypt(w http.ResponseWriter, name, plaintext string) {
	pt, err := base64.StdEncoding.DecodeString(plaintext)
	if err != nil {
		writeErr(w, 400, "failed to base64-decode plaintext")
		return
	}
	s.mu.Lock()
	if len(s.keys[name]) == 0 {
		s.keys[name] = [][]byte{newKey()}
	}
	version := len(s.keys[name])
	key := s.keys[name][version-1]
	s.mu.Unlock()
	gcm := newGCM(key)
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	ct := gcm.Seal(nonce, nonce, pt, nil)
	writeData(w, map[string]any{"ciphertext": fmt.Sprintf("vault:v%d:%s", version, base64.StdEncoding.EncodeToString(ct)),
		"key_version": version})
}

func (s *Server) decrypt(w http.ResponseWriter, name, ciphertext string) {
	rest, ok := strings.CutPrefix(ciphertext, "vault:v")
	vs, b64, ok2 := strings.Cut(rest, ":")
	version, err := strconv.Atoi(vs)
	if !ok || !ok2 || err != nil || version < 1 {
		writeErr(w, 400, "invalid ciphertext: no prefix")
		return
	}
	s.mu.Lock()
	versions := s.keys[name]
	s.mu.Unlock()
	if version > len(versions) {
		writeErr(w, 400, "invalid key version")
		return
	}
	ct, err := base64.StdEncoding.DecodeString(b64)
	gcm := newGCM(versions[version-1])
	if err != nil || len(ct) < gcm.NonceSize() {
		writeErr(w, 400, "invalid ciphertext: could not decode")
		return
	}
	pt, err := gcm.Open(nil, ct[:gcm.NonceSize()], ct[gcm.NonceSize():], nil)
	if err != nil {
		writeErr(w, 400, "cipher: message authentication failed")
		return
	}
	writeData(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)})
}

func newGCM(key []byte) cipher.AEAD {
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	return gcm
}

func writeData(w http.ResponseWriter, data map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"request_id": "fake", "lease_id": "", "renewable": false,
		"lease_duration": 0, "data": data})
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []string{msg}})
}
