// Package scan finds leaked secrets in files and in git history: tollgate keys, each
// confirmed by its CRC32 checksum (keys.Parse) so that a string of the right shape with a
// wrong checksum is never reported, and the keys of well-known providers (OpenAI,
// Anthropic, Google, AWS, GitHub, Slack, Stripe, Groq, xAI, Hugging Face). It backs
// `tollgate scan`.
//
// A finding never holds the secret: it holds where the secret is, its kind, a redacted
// hint and, for a tollgate key, the public key id (which is what revocation needs).
//
// The working tree is walked from each path given. Directories named .git are skipped
// (history is read through git instead), and so are symbolic links (a link is never
// followed, so a scan never leaves the tree it was given; a link's target inside the
// tree is scanned at its own path), files whose first 8000 bytes hold a NUL byte (binary,
// the test git itself uses) and files larger than Options.MaxFileSize.
//
// History (Options.History) is read with `git log -p --all`: every line added by any
// commit reachable from any ref, merges diffed against their first parent. A finding in
// history names the commit that added the line, the file and the line number in that
// commit. A secret is reported once per file: at the oldest commit that added it there.
//
// Provider keys are matched by the providers' published prefixes, following the gitleaks
// and trufflehog rules, with an entropy floor that drops placeholders such as
// "sk_live_xxxxxxxx". GitHub tokens in the 2021 format are confirmed by their CRC32
// (GitHubChecksumOK); fine-grained github_pat_ tokens have no documented checksum. AWS
// secret access keys (40 base64 characters, no prefix) are reported only within four
// lines of an AWS access key id. AWS's documentation examples (…EXAMPLE) are not
// reported. Mistral keys have no fixed prefix, so they cannot be told apart from any
// other 32 random characters and are not looked for.
package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultMaxFileSize is the largest file scanned unless Options say otherwise.
const DefaultMaxFileSize = 10 << 20

// sniffLen is how much of a file is searched for a NUL byte to call it binary.
const sniffLen = 8000

// Options tune a scan.
type Options struct {
	// MaxFileSize is the largest working-tree file scanned; 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// History also scans the git history of the repository holding each path.
	History bool
	// Git is the git executable; empty means "git" on PATH.
	Git string
}

// Stats count what a scan looked at.
type Stats struct {
	Files    int `json:"files"`
	Binary   int `json:"skipped_binary"`
	TooLarge int `json:"skipped_too_large"`
	Symlinks int `json:"skipped_symlinks"`
	Commits  int `json:"commits"`
}

// Report is what a scan found. Errors are the paths that could not be scanned; with
// any of them the scan is incomplete.
type Report struct {
	Findings []Finding
	Stats    Stats
	Errors   []error
}

// Scan scans paths (files or directories) and, with o.History, their git history.
func Scan(ctx context.Context, paths []string, o Options) *Report {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.Git == "" {
		o.Git = "git"
	}
	r := &Report{}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			r.Errors = append(r.Errors, err)
			break
		}
		r.walk(ctx, p, o)
		if o.History {
			if err := r.history(ctx, p, o); err != nil {
				r.Errors = append(r.Errors, err)
			}
		}
	}
	return r
}

// walk scans the working tree under root.
func (r *Report) walk(ctx context.Context, root string, o Options) {
	// The root itself is followed if it is a link: the user named it.
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		r.Errors = append(r.Errors, err)
		return
	}
	err = filepath.WalkDir(resolved, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			r.Errors = append(r.Errors, err)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Type()&fs.ModeSymlink != 0:
			r.Stats.Symlinks++
		case d.Type().IsRegular():
			r.file(path, shownPath(root, resolved, path), d, o.MaxFileSize)
		}
		return nil
	})
	if err != nil {
		r.Errors = append(r.Errors, err)
	}
}

// shownPath is path as the user named it: under root rather than its resolved form.
func shownPath(root, resolved, path string) string {
	rel, err := filepath.Rel(resolved, path)
	if err != nil {
		return path
	}
	return filepath.Join(root, rel)
}

// file scans one regular file, shown to the user as name. The file opened must be the
// one the walk saw (os.SameFile): a file swapped for a link meanwhile is not followed.
func (r *Report) file(path, name string, d fs.DirEntry, max int64) {
	seen, err := d.Info()
	if err != nil {
		r.Errors = append(r.Errors, err)
		return
	}
	if seen.Size() > max {
		r.Stats.TooLarge++
		return
	}
	f, err := os.Open(path)
	if err != nil {
		r.Errors = append(r.Errors, err)
		return
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !os.SameFile(seen, info) {
		r.Stats.Symlinks++
		return
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, max)); err != nil {
		r.Errors = append(r.Errors, fmt.Errorf("reading %s: %w", path, err))
		return
	}
	data := buf.Bytes()
	if bytes.IndexByte(data[:min(len(data), sniffLen)], 0) >= 0 {
		r.Stats.Binary++
		return
	}
	r.Stats.Files++
	s := newFileScan(name, "")
	lines(data, s.line)
	r.Findings = append(r.Findings, s.done()...)
}
