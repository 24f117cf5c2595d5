package scan

import (
	"bytes"
	"slices"
)

// awsWindow is how many lines apart an AWS secret access key may be from an access key
// id and still be reported: the two sit together in credentials files, .env files and
// JSON, while a lone 40-character base64 string is just as likely a hash or a blob.
const awsWindow = 4

// fileScan finds the secrets in the lines of one file (or of one file's diff in one
// commit), given in increasing line order.
type fileScan struct {
	path, commit string
	findings     []Finding

	// recent holds the last awsWindow lines, for AWS secrets written before their id.
	recent [awsWindow]struct {
		n    int
		text []byte
	}
	next int
	// awsUntil is the last line looked at for AWS secrets after an id; awsDone the last
	// line already looked at, so no line is searched twice.
	awsUntil, awsDone int
}

func newFileScan(path, commit string) *fileScan {
	return &fileScan{path: path, commit: commit}
}

// line scans line n.
func (s *fileScan) line(n int, text []byte) {
	aws := s.match(&tollgateRule, n, text)
	for i := range providerRules {
		if s.match(&providerRules[i], n, text) && providerRules[i].kind == KindAWSAccessKeyID {
			aws = true
		}
	}
	if aws {
		for _, r := range s.recent {
			if r.text != nil && n-r.n <= awsWindow {
				s.awsSecrets(r.n, r.text)
			}
		}
		s.awsUntil = n + awsWindow
	}
	if n <= s.awsUntil {
		s.awsSecrets(n, text)
	}
	r := &s.recent[s.next]
	r.n, r.text = n, append(r.text[:0], text...)
	s.next = (s.next + 1) % awsWindow
}

// done returns the findings in line and column order.
func (s *fileScan) done() []Finding {
	slices.SortStableFunc(s.findings, func(a, b Finding) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return s.findings
}

// match adds the matches of r in line n and reports whether there were any.
func (s *fileScan) match(r *rule, n int, text []byte) bool {
	ms := r.find(text)
	for _, m := range ms {
		s.add(m, n, text)
	}
	return len(ms) > 0
}

func (s *fileScan) add(m match, n int, text []byte) {
	f := newFinding(m.kind, text[m.start:m.end], n, m.start+1)
	f.Path, f.Commit = s.path, s.commit
	s.findings = append(s.findings, f)
}

// awsSecrets adds the AWS secret access keys of line n, unless it was searched already.
func (s *fileScan) awsSecrets(n int, text []byte) {
	if n <= s.awsDone {
		return
	}
	s.awsDone = n
	for _, m := range awsSecretRule.find(text) {
		s.add(m, n, text)
	}
}

// lines calls fn with every line of data (without its line ending) and its number.
func lines(data []byte, fn func(n int, line []byte)) {
	for n := 1; len(data) > 0; n++ {
		end, next := len(data), len(data)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			end, next = i, i+1
		}
		line := data[:end]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		fn(n, line)
		data = data[next:]
	}
}
