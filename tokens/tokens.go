// Package tokens counts tokens exactly as tiktoken-go's EncodeOrdinary does, for
// OpenAI's cl100k_base and o200k_base encodings, with tables read from the data that
// tiktoken-go-loader compiles into the binary, so nothing is ever downloaded at run
// time. quota (estimates before a request) and billing (counting what a stream cut
// short produced) both count through it.
//
// It does not run tiktoken-go itself, which costs tens of microseconds per short
// prompt in its regexp2 pre-tokenizer and about 34 MB of heap for the two encodings.
// Instead a hand-written pre-tokenizer (split.go) cuts text into the pieces that each
// encoding's split pattern matches, a compact rank table (table.go) answers whether a
// piece is a token, and byte-pair merging (bpe.go) counts the others, whose counts are
// cached (cache.go). A differential test and a fuzz target hold the counts equal to
// tiktoken-go's. An encoding is built on first use, or ahead of it by Warm.
package tokens

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// The encodings this package counts with.
const (
	CL100K = "cl100k_base"
	O200K  = "o200k_base"
)

// Encoder counts tokens with one encoding. Its table is built on first use; counting
// is safe for concurrent use.
type Encoder struct {
	name  string
	split func(s string, i int) int // the end of the piece that starts at s[i]
	once  sync.Once
	tab   *table
	err   error
	cache pieceCache
}

var (
	cl100k = &Encoder{name: CL100K, split: splitCL100K}
	o200k  = &Encoder{name: O200K, split: splitO200K}
)

// Get returns the named encoding, or cl100k_base for a name it does not know. The
// encoding is not built until it is used or loaded.
func Get(name string) *Encoder {
	if name == O200K {
		return o200k
	}
	return cl100k
}

// For returns the encoding used to count model's tokens (see EncodingFor).
func For(model string) *Encoder { return Get(EncodingFor(model)) }

// Name returns the encoding's name.
func (e *Encoder) Name() string { return e.name }

// Load builds the encoding's table if it is not built yet (tens of milliseconds) and
// returns the error that building met, if any. Callers that count meanwhile wait.
func (e *Encoder) Load() error {
	e.once.Do(func() {
		buildClasses()
		e.tab, e.err = loadTable(e.name + ".tiktoken")
	})
	return e.err
}

// Count counts the tokens of text as tiktoken-go's EncodeOrdinary would: special-token
// markers count as plain text, and each byte of invalid UTF-8 as U+FFFD (tiktoken-go
// decodes text to runes first). If the table cannot be built it falls back to one
// token per four bytes, which never returns zero for text.
func (e *Encoder) Count(text string) int64 {
	if text == "" {
		return 0
	}
	if e.Load() != nil {
		return int64(len(text)+3) / 4
	}
	return int64(e.count(text, &e.cache))
}

// count counts text with the table built; cache may be nil, to count without it.
func (e *Encoder) count(text string, cache *pieceCache) int {
	if !utf8.ValidString(text) {
		text = string([]rune(text))
	}
	n := 0
	for i := 0; i < len(text); {
		j := e.split(text, i)
		if j <= i { // never loops, whatever the splitter's bug
			_, size := utf8.DecodeRuneInString(text[i:])
			j = i + size
		}
		n += e.pieceCount(text[i:j], cache)
		i = j
	}
	return n
}

// pieceCount counts the tokens of one piece: one if it is a token, else its merges.
func (e *Encoder) pieceCount(p string, cache *pieceCache) int {
	h := e.tab.hash(p)
	if _, ok := e.tab.find(p, h); ok {
		return 1
	}
	if cache == nil {
		return e.tab.merges(p)
	}
	if n, ok := cache.get(p, h); ok {
		return n
	}
	n := e.tab.merges(p)
	cache.put(p, h, n)
	return n
}

// o200kPrefixes are the model families that use OpenAI's o200k_base encoding.
var o200kPrefixes = []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-", "o1", "o3", "o4", "gpt-oss"}

// EncodingFor returns the encoding used to count model's tokens: o200k_base for
// OpenAI's GPT-4o, GPT-4.1, GPT-4.5, GPT-5 and o-series models, cl100k_base for
// everything else. Other vendors' tokenizers are not public; cl100k is within a few
// percent for English text, which is what an estimate needs.
func EncodingFor(model string) string {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	for _, p := range o200kPrefixes {
		if strings.HasPrefix(m, p) {
			return O200K
		}
	}
	return CL100K
}

// Warm builds now the encodings that models need, or every encoding when models is
// empty, so that the first request that counts does not pay for building one. It is
// meant to run in the background at start: a request that counts meanwhile waits for
// the encoding it needs rather than building it twice.
func Warm(models ...string) error {
	for _, e := range needed(models) {
		if err := e.Load(); err != nil {
			return err
		}
	}
	return nil
}

// needed returns the encodings that models need, or every encoding for no models.
func needed(models []string) []*Encoder {
	var need []*Encoder
	for _, e := range []*Encoder{o200k, cl100k} {
		if len(models) == 0 || slices.ContainsFunc(models, func(m string) bool { return For(m) == e }) {
			need = append(need, e)
		}
	}
	return need
}

// Count counts the tokens of text exactly as model's tokenizer would (see
// EncodingFor and Encoder.Count).
func Count(model, text string) int64 { return For(model).Count(text) }
