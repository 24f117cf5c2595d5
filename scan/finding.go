package scan

import (
	"crypto/sha256"
	"strconv"
	"strings"
)

// Finding is one secret found. It never holds the secret: only where it is, what kind
// it is, a redacted hint and, for a tollgate key, its public id.
type Finding struct {
	// Path is the file, as walked for the working tree, relative to the repository
	// root for history.
	Path string `json:"path"`
	// Line and Column are 1-based; Column counts bytes.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Commit is the commit that added the line, for findings in git history.
	Commit string `json:"commit,omitempty"`
	Kind   string `json:"kind"`
	// Hint shows enough to recognise the secret and not enough to use it: the prefix
	// and public id of a tollgate key, the first and last four characters otherwise.
	Hint string `json:"hint"`
	// KeyID is the public id of a tollgate key.
	KeyID string `json:"key_id,omitempty"`

	// fingerprint is SHA-256 of the secret, kept in memory only to report a secret
	// once per file in history.
	fingerprint [32]byte
}

// Location is "path:line", or "commit:path:line" for history (the commit
// abbreviated to 12 characters).
func (f Finding) Location() string {
	loc := f.Path + ":" + strconv.Itoa(f.Line)
	if f.Commit != "" {
		return shortCommit(f.Commit) + ":" + loc
	}
	return loc
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// IsTollgate reports whether the finding is a tollgate key (which --revoke can revoke).
func (f Finding) IsTollgate() bool { return strings.HasPrefix(f.Kind, "tollgate_") }

// newFinding describes secret, found at line and column, without keeping it.
func newFinding(kind string, secret []byte, line, column int) Finding {
	f := Finding{Kind: kind, Line: line, Column: column, fingerprint: sha256.Sum256(secret)}
	if strings.HasPrefix(kind, "tollgate_") {
		// tgk_<12 id>_ : the id is public, the rest is the secret and its checksum.
		f.KeyID = string(secret[4:16])
		f.Hint = string(secret[:17]) + "…"
		return f
	}
	f.Hint = Redact(secret)
	return f
}

// Redact returns the first and last four characters of a secret around an ellipsis,
// or only an ellipsis for a secret too short to show eight characters of safely.
func Redact(secret []byte) string {
	if len(secret) < 20 {
		return "…"
	}
	return string(secret[:4]) + "…" + string(secret[len(secret)-4:])
}
