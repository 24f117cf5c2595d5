package keys

import (
	"fmt"
	"strings"
)

// Model patterns are globs with two wildcards: '*' matches any run of characters,
// '/' included (model names such as "meta-llama/llama-3" contain slashes), and '?'
// matches one character. Everything else is literal; '[', ']' and '\' are refused so
// that no pattern means one thing here and another in a shell or in path.Match.

// checkPattern reports whether p is a valid model pattern.
func checkPattern(p string) error {
	if p == "" || strings.ContainsAny(p, `[]\`) || strings.TrimSpace(p) != p {
		return fmt.Errorf("%q is not a valid model pattern: use letters, digits, punctuation and the wildcards * and ?", p)
	}
	return nil
}

// MatchModel reports whether the model pattern p matches name. It runs in
// O(len(p)·len(name)) at worst: a later '*' supersedes the backtracking point of an
// earlier one.
func MatchModel(p, name string) bool {
	pi, ni := 0, 0
	star, mark := -1, 0
	for ni < len(name) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == name[ni]):
			pi++
			ni++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ni
			pi++
		case star >= 0:
			mark++
			pi, ni = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Covers reports whether every model name that child matches is also matched by one of
// the parents. The check is sound (it never answers true wrongly) and decides the common
// cases exactly: a literal name, a pattern that is a narrower copy of a parent pattern
// ("gpt-4o-*" under "gpt-4o*" or "*"). It may refuse a child that only a union of
// several parent patterns covers, or an unusual equivalent spelling such as "*?" under
// "?*"; such a child can be minted with narrower patterns.
func Covers(parents []string, child string) bool {
	for _, p := range parents {
		if subsumes(p, child) {
			return true
		}
	}
	return false
}

// subsumes reports whether pattern p matches every instance of pattern c, by matching p
// against c's symbols: p's '*' absorbs any run of c's symbols, wildcards included; p's
// '?' absorbs one literal or '?' of c; a literal of p only the same literal. Any instance
// of c then splits along the same alignment into pieces that p's symbols match, which
// makes the check sound. ok[i][j] says whether p[i:] subsumes c[j:].
func subsumes(p, c string) bool {
	ok := make([][]bool, len(p)+1)
	for i := range ok {
		ok[i] = make([]bool, len(c)+1)
	}
	ok[len(p)][len(c)] = true
	for i := len(p) - 1; i >= 0; i-- {
		for j := len(c); j >= 0; j-- {
			switch {
			case p[i] == '*':
				ok[i][j] = ok[i+1][j] || (j < len(c) && ok[i][j+1])
			case j == len(c):
				ok[i][j] = false
			case p[i] == '?':
				ok[i][j] = c[j] != '*' && ok[i+1][j+1]
			default:
				ok[i][j] = p[i] == c[j] && ok[i+1][j+1]
			}
		}
	}
	return ok[0][0]
}
