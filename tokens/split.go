package tokens

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// The pre-tokenizers below cut text into the pieces that tiktoken's split patterns
// match, without a regular expression. tiktoken-go runs the patterns with regexp2, a
// backtracking engine: an alternation takes its first branch that matches, greedy loops
// give back characters one by one, and the unicode classes are the Go unicode package's
// (\s is unicode.IsSpace). Each function follows the pattern's branches in order and
// resolves the backtracking in closed form; the differential test and the fuzz target
// check the result against tiktoken-go.

// Character classes, one bit each, as the split patterns use them.
const (
	cL     uint8 = 1 << iota // \p{L}
	cUpper                   // \p{Lu} or \p{Lt}
	cLower                   // \p{Ll}
	cLmo                     // \p{Lm} or \p{Lo}
	cM                       // \p{M}
	cN                       // \p{N}
	cSpace                   // \s
	cNL                      // \r or \n

	// cUp is o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], cLow its [\p{Ll}\p{Lm}\p{Lo}\p{M}].
	cUp  = cUpper | cLmo | cM
	cLow = cLower | cLmo | cM
	// notPrefix excludes a character from [^\r\n\p{L}\p{N}]; notPunct from [^\s\p{L}\p{N}].
	notPrefix = cNL | cL | cN
	notPunct  = cSpace | cL | cN
)

// bmpClasses holds the classes of the Basic Multilingual Plane, built with the first
// encoding: 64 KB that spare non-Latin text several table searches per character.
var (
	bmpClasses [0x10000]uint8
	classOnce  sync.Once
)

func buildClasses() {
	classOnce.Do(func() {
		for r := range rune(len(bmpClasses)) {
			bmpClasses[r] = classify(r)
		}
	})
}

func classify(r rune) uint8 {
	var c uint8
	switch {
	case unicode.Is(unicode.Lu, r), unicode.Is(unicode.Lt, r):
		c = cL | cUpper
	case unicode.Is(unicode.Ll, r):
		c = cL | cLower
	case unicode.Is(unicode.Lm, r), unicode.Is(unicode.Lo, r):
		c = cL | cLmo
	case unicode.Is(unicode.M, r):
		c = cM
	case unicode.Is(unicode.N, r):
		c = cN
	}
	if unicode.IsSpace(r) {
		c |= cSpace
	}
	if r == '\r' || r == '\n' {
		c |= cNL
	}
	return c
}

// at returns the classes and the length of the character at s[i], or a zero length at
// the end of s. s is valid UTF-8. ASCII takes the inlined path.
func at(s string, i int) (uint8, int) {
	if uint(i) < uint(len(s)) {
		if b := s[i]; b < utf8.RuneSelf {
			return bmpClasses[b], 1
		}
	}
	return atMultibyte(s, i)
}

func atMultibyte(s string, i int) (uint8, int) {
	if i >= len(s) {
		return 0, 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r < rune(len(bmpClasses)) {
		return bmpClasses[r], n
	}
	return classify(r), n
}

// run returns the end of the run of characters in any of classes that starts at s[i].
func run(s string, i int, classes uint8) int {
	for i < len(s) {
		if b := s[i]; b < utf8.RuneSelf { // most text, without the call
			if bmpClasses[b]&classes == 0 {
				return i
			}
			i++
			continue
		}
		c, n := atMultibyte(s, i)
		if c&classes == 0 {
			return i
		}
		i += n
	}
	return i
}

// lowerASCII lowers r as regexp2's case-insensitive match does.
func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	if r < utf8.RuneSelf {
		return r
	}
	return unicode.ToLower(r)
}

// contraction returns the length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at s[i], or 0.
func contraction(s string, i int) int {
	if i >= len(s) || s[i] != '\'' {
		return 0
	}
	r1, n1 := utf8.DecodeRuneInString(s[i+1:])
	var want rune
	switch lowerASCII(r1) {
	case 's', 't', 'm', 'd':
		return 1 + n1
	case 'r', 'v':
		want = 'e'
	case 'l':
		want = 'l'
	default:
		return 0
	}
	if j := i + 1 + n1; j < len(s) {
		if r2, n2 := utf8.DecodeRuneInString(s[j:]); lowerASCII(r2) == want {
			return 1 + n1 + n2
		}
	}
	return 0
}

// numbers matches \p{N}{1,3} at s[i], which holds a number.
func numbers(s string, i int) int {
	for range 3 {
		c, n := at(s, i)
		if n == 0 || c&cN == 0 {
			break
		}
		i += n
	}
	return i
}

// punctOrSpace matches the rest of both patterns at s[i]: ` ?[^\s\p{L}\p{N}]+[\r\n]*`
// (with a slash in the tail class for o200k), then `\s*[\r\n]+|\s+(?!\S)|\s+`.
func punctOrSpace(s string, i int, c uint8, slash bool) int {
	j := i
	if s[i] == ' ' {
		if c2, n2 := at(s, i+1); n2 > 0 && c2&notPunct == 0 {
			j, c = i+1, c2
		}
	}
	if c&notPunct == 0 {
		for {
			c, n := at(s, j)
			if n == 0 || c&notPunct != 0 {
				break
			}
			j += n
		}
		for j < len(s) && (s[j] == '\r' || s[j] == '\n' || slash && s[j] == '/') {
			j++
		}
		return j
	}
	return spaces(s, i)
}

// spaces matches `\s*[\r\n]+|\s+(?!\S)|\s+` at s[i], which holds a space. The first
// branch backtracks to the last line break of the run of spaces; the second gives back
// the run's last character when a non-space follows it.
func spaces(s string, i int) int {
	end, lastNL, last, count := i, -1, i, 0
	for {
		c, n := at(s, end)
		if n == 0 || c&cSpace == 0 {
			break
		}
		if c&cNL != 0 {
			lastNL = end + n
		}
		last, end, count = end, end+n, count+1
	}
	switch {
	case lastNL >= 0:
		return lastNL
	case end == len(s) || count == 1:
		return end
	default:
		return last
	}
}

// splitCL100K returns the end of the piece that starts at s[i] under cl100k_base's
// pattern:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitCL100K(s string, i int) int {
	if n := contraction(s, i); n > 0 {
		return i + n
	}
	c, n := at(s, i)
	if c&cL != 0 {
		return run(s, i, cL)
	}
	if c&notPrefix == 0 {
		if c2, _ := at(s, i+n); c2&cL != 0 {
			return run(s, i+n, cL)
		}
	}
	if c&cN != 0 {
		return numbers(s, i)
	}
	return punctOrSpace(s, i, c, false)
}

// splitO200K returns the end of the piece that starts at s[i] under o200k_base's
// pattern:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)?|
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)?|
//	\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// Each word branch tries with its optional leading character first, then without (a
// mark can be that character or part of the word).
func splitO200K(s string, i int) int {
	c, n := at(s, i)
	prefix := c&notPrefix == 0
	if prefix {
		if e := lowerWord(s, i+n); e > 0 {
			return e
		}
	}
	if e := lowerWord(s, i); e > 0 {
		return e
	}
	if prefix {
		if e := upperWord(s, i+n); e > 0 {
			return e
		}
	}
	if e := upperWord(s, i); e > 0 {
		return e
	}
	if c&cN != 0 {
		return numbers(s, i)
	}
	return punctOrSpace(s, i, c, true)
}

// lowerWord matches [cUp]*[cLow]+ and an optional contraction at s[i], returning 0
// if it does not match. When no cLow character follows the greedy [cUp]* run, the
// engine gives the run back to its last character that is also in cLow, which then
// ends the word.
func lowerWord(s string, i int) int {
	j, lastLow := i, 0
	for {
		c, n := at(s, j)
		if n == 0 || c&cUp == 0 {
			break
		}
		j += n
		if c&cLow != 0 {
			lastLow = j
		}
	}
	if c, _ := at(s, j); c&cLow != 0 {
		j = run(s, j, cLow)
		return j + contraction(s, j)
	}
	if lastLow > 0 {
		return lastLow + contraction(s, lastLow)
	}
	return 0
}

// upperWord matches [cUp]+[cLow]* and an optional contraction at s[i], or returns 0.
func upperWord(s string, i int) int {
	if c, n := at(s, i); n == 0 || c&cUp == 0 {
		return 0
	}
	j := run(s, run(s, i, cUp), cLow)
	return j + contraction(s, j)
}
