// Package keys implements tollgate's keys: the format and checksum, generation, HMAC
// hashing under a server secret, authentication into a Principal, scope checks, and the
// lifecycle rules (rotation, ephemeral children, admin tokens, failure throttling).
//
// Format (API.md "Keys"): <prefix><keyid>_<secret><crc>, where prefix is tgk_ (client),
// tge_ (ephemeral child) or tga_ (admin token); keyid is 12 base62 characters and public;
// secret is 32 base62 characters from crypto/rand with rejection sampling, so every
// character is uniform; crc is the CRC32 (IEEE) of everything before it, in base62,
// left-padded with '0' to 6 characters. The checksum lets a scanner confirm a key offline
// and lets the server reject garbage before any lookup. It is not a MAC.
//
// Authentication (Authenticator) is served from memory: every key is loaded at start,
// a key created elsewhere is read once on first use, and a changed key is read again
// when the invalidate bus says so (Invalidate, Reload), with a periodic Refresh of the
// keys changed in the store as the safety net behind lost messages. The only store call
// on the request path is the atomic use count of a key with max_requests.
//
// Scopes: model patterns are globs where '*' matches any run of characters ('/'
// included) and '?' one character (MatchModel); endpoints; allowed_ips (CIDRs, IPv4 and
// IPv6); allowed_hours ("08:00-20:00 Europe/Paris", ranges may wrap midnight).
// Rotation gives a key a new secret under the same id; the previous secret stays valid
// until the grace ends. An ephemeral key (NewChildKey) is never wider than its parent
// when minted, and at every request it is checked against its parent as the parent is
// then: a disabled, revoked, expired or narrowed parent disables, revokes, expires or
// narrows its children. Admin tokens are stored like client keys with a role.
package keys

import (
	"crypto/rand"
	"errors"
	"hash/crc32"
	"strings"
)

// Kind is what a key is for.
type Kind string

// The kinds of key, with their prefixes.
const (
	KindClient    Kind = "client"
	KindEphemeral Kind = "ephemeral"
	KindAdmin     Kind = "admin"
)

// Prefix returns the kind's key prefix.
func (k Kind) Prefix() string {
	switch k {
	case KindClient:
		return "tgk_"
	case KindEphemeral:
		return "tge_"
	case KindAdmin:
		return "tga_"
	}
	return ""
}

const (
	alphabet  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	idLen     = 12
	secretLen = 32
	crcLen    = 6
	// KeyLen is the length of every key: prefix, id, separator, secret and checksum.
	KeyLen = 4 + idLen + 1 + secretLen + crcLen
)

// ErrMalformed is a string that is not a well-formed tollgate key.
var ErrMalformed = errors.New("malformed key")

// Parsed is what a key reveals without a lookup.
type Parsed struct {
	Kind Kind
	ID   string
}

// Generate returns a new random key of the given kind and its public id.
func Generate(kind Kind) (key, id string, err error) {
	p := kind.Prefix()
	if p == "" {
		return "", "", errors.New("keys: unknown kind")
	}
	buf := make([]byte, 0, KeyLen)
	buf = append(buf, p...)
	if buf, err = appendRandom(buf, idLen); err != nil {
		return "", "", err
	}
	key, err = withSecret(buf)
	return key, string(buf[4 : 4+idLen]), err
}

// Regenerate returns a new key of the given kind and public id with a fresh secret: a
// rotated key keeps its id, so its settings, spend and children stay attached to it.
func Regenerate(kind Kind, id string) (string, error) {
	p := kind.Prefix()
	if p == "" || len(id) != idLen || strings.IndexFunc(id, func(r rune) bool { return r > 127 || !isBase62(byte(r)) }) >= 0 {
		return "", errors.New("keys: bad kind or id")
	}
	return withSecret(append([]byte(p), id...))
}

// withSecret appends the separator, a random secret and the checksum to a prefix and id.
func withSecret(buf []byte) (string, error) {
	buf = append(buf, '_')
	buf, err := appendRandom(buf, secretLen)
	if err != nil {
		return "", err
	}
	return string(appendChecksum(buf)), nil
}

// appendRandom appends n uniform base62 characters. Bytes of 248 and above are rejected
// so that 62 divides the accepted range (248 = 4 × 62) and no character is favoured.
func appendRandom(dst []byte, n int) ([]byte, error) {
	var b [64]byte
	for n > 0 {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		for _, c := range b {
			if c >= 248 {
				continue
			}
			dst = append(dst, alphabet[c%62])
			if n--; n == 0 {
				break
			}
		}
	}
	return dst, nil
}

func appendChecksum(dst []byte) []byte {
	return append(dst, checksum(dst)...)
}

// checksum returns the base62 CRC32 of s, left-padded with '0' to 6 characters.
func checksum(s []byte) []byte {
	v := crc32.ChecksumIEEE(s)
	out := []byte("000000")
	for i := crcLen - 1; i >= 0 && v > 0; i-- {
		out[i] = alphabet[v%62]
		v /= 62
	}
	return out
}

// Checksum returns the checksum characters of a key body (everything before them). It is
// exported so scanners and tests can build and check keys byte-exactly.
func Checksum(body string) string { return string(checksum([]byte(body))) }

// Parse checks a key's shape and checksum without any lookup.
func Parse(key string) (Parsed, error) {
	if len(key) != KeyLen || key[0] != 't' || key[1] != 'g' || key[3] != '_' || key[4+idLen] != '_' {
		return Parsed{}, ErrMalformed
	}
	var kind Kind
	switch key[2] {
	case 'k':
		kind = KindClient
	case 'e':
		kind = KindEphemeral
	case 'a':
		kind = KindAdmin
	default:
		return Parsed{}, ErrMalformed
	}
	for i := 4; i < KeyLen; i++ {
		if i != 4+idLen && !isBase62(key[i]) {
			return Parsed{}, ErrMalformed
		}
	}
	body := key[:KeyLen-crcLen]
	want := checksum([]byte(body))
	if string(want) != key[KeyLen-crcLen:] {
		return Parsed{}, ErrMalformed
	}
	return Parsed{Kind: kind, ID: key[4 : 4+idLen]}, nil
}

func isBase62(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// Hint returns a display form that reveals no secret: the prefix, the public id and the
// last four characters of the checksum.
func Hint(key string) string {
	if len(key) != KeyLen {
		return ""
	}
	return key[:4+idLen+1] + "…" + key[KeyLen-4:]
}
