package scan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// commitMarker starts each commit in the log output; a diff line never starts with it
// (diff lines start with '+', '-', ' ', '@', '\' or a header word).
const commitMarker = "tollgate-scan-commit "

// history scans every line ever added in the repository holding path, restricted to
// path, through `git log -p`.
func (r *Report) history(ctx context.Context, path string, o Options) error {
	dir := path
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		dir = filepath.Dir(path)
	}
	spec := "."
	if dir != path {
		spec = filepath.Base(path)
	}
	// Everything that could run a program configured in the repository is switched
	// off (external diff drivers, text conversion filters), and every setting that
	// changes the output is given explicitly, whatever the user's or the repository's
	// configuration says (log.showRoot, diff.noprefix, diff.renames, color.ui, ...).
	cmd := exec.CommandContext(ctx, o.Git, "-C", dir, "-c", "core.quotePath=false",
		"log", "-p", "--all", "--reverse", "--root", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
		"--no-renames", "--src-prefix=a/", "--dst-prefix=b/", "--diff-merges=first-parent",
		"--format="+commitMarker+"%H", "--", spec)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("scanning the history of %s: running git: %w", path, err)
	}
	p := &logParser{report: r, seen: map[seenKey]bool{}}
	perr := p.parse(bufio.NewReaderSize(out, 64<<10), int(o.MaxFileSize))
	if perr != nil {
		io.Copy(io.Discard, out) // let git finish writing before Wait
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("scanning the history of %s: git log: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return perr
}

// seenKey is a secret in a file: history reports each once.
type seenKey struct {
	fingerprint [32]byte
	path        string
}

// logParser reads `git log -p -U0` output.
type logParser struct {
	report *Report
	seen   map[seenKey]bool
	commit string
	path   string
	file   *fileScan
	// inHunk is true while the current hunk still has lines; oldLeft and newLeft count
	// them, and newLine is the number of the next added line.
	inHunk                    bool
	oldLeft, newLeft, newLine int
}

func (p *logParser) parse(rd *bufio.Reader, maxLine int) error {
	var buf []byte
	for {
		line, err := readLine(rd, buf[:0], maxLine)
		buf = line
		if len(line) > 0 || err == nil {
			p.line(line)
		}
		if errors.Is(err, io.EOF) {
			p.flush()
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// line handles one line of the log.
func (p *logParser) line(l []byte) {
	if p.inHunk {
		p.hunkLine(l)
		return
	}
	switch {
	case bytes.HasPrefix(l, []byte(commitMarker)):
		p.flush()
		p.commit, p.path = string(l[len(commitMarker):]), ""
		p.report.Stats.Commits++
	case bytes.HasPrefix(l, []byte("diff --git ")):
		p.flush()
		p.path = ""
	case bytes.HasPrefix(l, []byte("+++ ")):
		p.path = diffPath(string(l[4:]))
		if p.path != "" {
			p.file = newFileScan(p.path, p.commit)
		}
	case bytes.HasPrefix(l, []byte("@@ ")):
		p.hunk(string(l))
	}
}

// hunk starts a hunk from its header, "@@ -a[,b] +c[,d] @@".
func (p *logParser) hunk(h string) {
	fields := strings.Fields(h)
	if len(fields) < 3 {
		return
	}
	_, p.oldLeft = rangeOf(fields[1])
	p.newLine, p.newLeft = rangeOf(fields[2])
	p.inHunk = p.oldLeft > 0 || p.newLeft > 0
}

// rangeOf parses "-a,b" or "+c" into a start and a count (1 when absent).
func rangeOf(s string) (start, count int) {
	s = strings.TrimLeft(s, "+-")
	a, b, found := strings.Cut(s, ",")
	start, _ = strconv.Atoi(a)
	count = 1
	if found {
		count, _ = strconv.Atoi(b)
	}
	return start, count
}

func (p *logParser) hunkLine(l []byte) {
	if len(l) == 0 {
		p.inHunk = false // a malformed hunk; resynchronise on the next header
		return
	}
	switch l[0] {
	case '+':
		if p.file != nil {
			p.file.line(p.newLine, l[1:])
		}
		p.newLine++
		p.newLeft--
	case '-':
		p.oldLeft--
	case ' ':
		p.newLine++
		p.newLeft--
		p.oldLeft--
	case '\\': // "\ No newline at end of file"
	}
	p.inHunk = p.oldLeft > 0 || p.newLeft > 0
}

// flush reports the current file's findings not reported before.
func (p *logParser) flush() {
	p.inHunk = false
	if p.file == nil {
		return
	}
	for _, f := range p.file.done() {
		k := seenKey{f.fingerprint, f.Path}
		if !p.seen[k] {
			p.seen[k] = true
			p.report.Findings = append(p.report.Findings, f)
		}
	}
	p.file = nil
}

// diffPath returns the path of a "+++ " header ("b/dir/file", followed by a tab when
// it holds a space, or quoted when it holds special characters), or "" for /dev/null.
func diffPath(s string) string {
	s = strings.TrimSuffix(s, "\t")
	if strings.HasPrefix(s, `"`) {
		u, err := strconv.Unquote(s)
		if err != nil {
			return ""
		}
		s = u
	}
	if s == "/dev/null" {
		return ""
	}
	return strings.TrimPrefix(s, "b/")
}

// readLine reads one line without its ending into buf. A line longer than max is cut
// at max; the rest of it is skipped.
func readLine(rd *bufio.Reader, buf []byte, max int) ([]byte, error) {
	for {
		chunk, err := rd.ReadSlice('\n')
		if len(buf) < max {
			buf = append(buf, chunk[:min(len(chunk), max-len(buf))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		return buf, err
	}
}
