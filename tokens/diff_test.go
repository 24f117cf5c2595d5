package tokens

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// reference returns tiktoken-go's encoding of the given name, the one these counts
// must equal.
var reference = func() func(tb testing.TB, name string) *tiktoken.Tiktoken {
	var mu sync.Mutex
	built := map[string]*tiktoken.Tiktoken{}
	tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader())
	return func(tb testing.TB, name string) *tiktoken.Tiktoken {
		mu.Lock()
		defer mu.Unlock()
		if tk, ok := built[name]; ok {
			return tk
		}
		tk, err := tiktoken.GetEncoding(name)
		if err != nil {
			tb.Fatal(err)
		}
		built[name] = tk
		return tk
	}
}()

// corpus covers what the split patterns treat specially: contractions in both cases,
// letter case runs, marks, numbers of every length, punctuation runs with line breaks
// and slashes, runs of spaces before words, punctuation and line ends, and scripts.
var corpus = []string{
	"Hello, world!", "hello world", "", " ", "  ", "\n", "\r\n", "\t", "a", "'", "''", "'s",
	"The quick brown fox jumps over the lazy dog. It's what we'd've done; they'll say I'm right.",
	"IT'S, WE'D, THEY'LL, I'M, YOU'RE, WE'VE, DON'T, 'S 'T 'Re 'vE 'M 'Ll 'D 'x 'sup",
	"rock'n'roll o'clock 'quoted' \"double\" ’curly’ l'été",
	"CamelCaseWords HTTPServer XMLHttpRequest iPhone eBay McDONALD's ÉCOLE Ǆemal ǅungla",
	"1 12 123 1234 12345 1234567890 3.14159 -42 1e10 0x1F ١٢٣٤ ⅫⅩ ①②③④ ½¾",
	"    indented\n\tcode\n\n\n  \n x  \t y \u00a0z\u2003w\u3000v\u0085u",
	"trailing spaces   ", "   leading", "a\r\n\r\nb\r\n", "line\n\n", "x\n \n \n", " \r\n ",
	"func main() {\n\tfmt.Println(\"hi\") // comment\n\treturn x+y*z/2\n}\n",
	"for (int i = 0; i < n; ++i) { a[i] <<= 2; } /* c */ // done\r\n",
	`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"n":1,"x":null}`,
	"path/to/file.go:12:3 https://example.com/a/b?q=1&r=2#frag ///\n//\r\n/",
	"!!!??? ... --- ___ *** ### $$$ %%% ^^^ &&& ||| ~~~ ``` ===\n\n",
	"东京で会いましょう。北京欢迎你！한국어 텍스트입니다. 日本語のテキスト",
	"emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ☃ ✓ ✗",
	"e\u0301 a\u0300\u0301 \u0301\u0302x Z\u0351\u0352A\u0360L\u0361G\u0362O \u0903 ि",
	"ٱلسَّلَامُ عَلَيْكُمْ مرحبا بالعالم ١٢٣ العربية",
	"Ελληνικά Русский текст עברית हिन्दी ไทย ᚠᚢᚦ Ⅻ ǅ ʰʲ ꙮ",
	"mixed: abc漢字def 123中文456 Größenwahn — ñandú ÆØÅ æøå ß ẞ",
	"ǅ ǈ ǋ ǲ ᾈ ᾉ ᾘ ᾙ ᾨ ᾩ ᾼ ῌ ῼ ʰ ʱ ˆ ˇ ー 々",
	"\u0300", "\u0301abc", " \u0301", "a\u0301'S", "\u02b0'S", "ʰA", "Aʰ", "AʰB", "A\u0301",
	"\xff\xfe invalid \xc3\x28 utf8 \xe2\x82 \xed\xa0\x80 \xf0\x9f\x98", "\x80", "a\xffb",
	"\x00\x01\x02\x1f\x7f", "<|endoftext|> <|fim_prefix|> <|endofprompt|>",
	strings.Repeat("a", 300), strings.Repeat(" ", 300) + "x", strings.Repeat("ab", 200),
	strings.Repeat("=", 500), strings.Repeat("漢", 200), strings.Repeat("\n", 100),
	strings.Repeat("1", 100), strings.Repeat("Zz", 150), strings.Repeat("😀", 60),
	"aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCBkYXRhIHdpdGggbm8gc3BhY2Vz" +
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk",
}

// TestCountMatchesTiktoken counts the corpus, each text alone and all together, with
// both encodings, with and without the piece cache, and checks every count against
// tiktoken-go's EncodeOrdinary.
func TestCountMatchesTiktoken(t *testing.T) {
	texts := append(append([]string(nil), corpus...), strings.Join(corpus, ""), strings.Join(corpus, "\n"))
	for _, name := range []string{CL100K, O200K} {
		t.Run(name, func(t *testing.T) {
			tk, e := reference(t, name), Get(name)
			if err := e.Load(); err != nil {
				t.Fatal(err)
			}
			for _, text := range texts {
				checkCount(t, e, tk, text)
			}
		})
	}
}

func checkCount(t *testing.T, e *Encoder, tk *tiktoken.Tiktoken, text string) {
	t.Helper()
	want := len(tk.EncodeOrdinary(text))
	for _, cache := range []*pieceCache{nil, &e.cache, &e.cache} { // cold, filling, warm
		if got := e.count(text, cache); got != want {
			t.Fatalf("%s: %d tokens in %q, tiktoken-go counts %d", e.name, got, text, want)
		}
	}
	if got := Count(map[string]string{CL100K: "gpt-4", O200K: "gpt-4o"}[e.name], text); got != int64(want) {
		t.Fatalf("Count: %d tokens in %q, tiktoken-go counts %d", got, text, want)
	}
}

// patterns are the split patterns tiktoken-go compiles with regexp2 for each encoding.
var patterns = map[string]*regexp2.Regexp{
	CL100K: regexp2.MustCompile(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|`+
		` ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, regexp2.None),
	O200K: regexp2.MustCompile(`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+`+
		`(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+`+
		`[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|`+
		`\s*[\r\n]+|\s+(?!\S)|\s+`, regexp2.None),
}

// checkSplit checks that the pieces of text are the matches of the encoding's pattern.
func checkSplit(t *testing.T, e *Encoder, text string) {
	t.Helper()
	text = string([]rune(text))
	var got, want []string
	for i := 0; i < len(text); {
		j := e.split(text, i)
		if j <= i {
			t.Fatalf("%s: no piece at byte %d of %q", e.name, i, text)
		}
		got = append(got, text[i:j])
		i = j
	}
	runes := []rune(text)
	m, _ := patterns[e.name].FindStringMatch(text)
	for ; m != nil; m, _ = patterns[e.name].FindNextMatch(m) {
		want = append(want, string(runes[m.Index:m.Index+m.Length]))
	}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("%s splits %q into\n%q, the pattern into\n%q", e.name, text, got, want)
	}
}

// TestSplitMatchesPattern checks the pieces themselves, not only their token counts.
func TestSplitMatchesPattern(t *testing.T) {
	for _, name := range []string{CL100K, O200K} {
		e := Get(name)
		if err := e.Load(); err != nil {
			t.Fatal(err)
		}
		for _, text := range corpus {
			checkSplit(t, e, text)
		}
	}
}

// palette holds characters of every class the patterns tell apart, and the letters
// of the contractions in both cases.
var palette = []string{
	"a", "b", "s", "t", "r", "e", "v", "m", "l", "d", "S", "T", "R", "E", "V", "M", "L", "D", "Q",
	"é", "É", "ǅ", "ß", "ʰ", "ー", "漢", "ا", "\u0301", "\u0903", "\u20dd", "1", "٣", "½", "Ⅻ", "①",
	"'", "’", "/", "!", ".", "-", "_", "😀", "\u200d", "\ufe0f", "$", "\x00",
	" ", " ", " ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u0085", "\v", "\xff", "\xe2\x82",
}

// TestRandomTextsMatchTiktoken checks texts drawn from the palette, where byte-level
// fuzzing seldom puts several multi-byte classes side by side.
func TestRandomTextsMatchTiktoken(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := make([]string, 3000)
	for i := range texts {
		var b strings.Builder
		for range 1 + rng.IntN(24) {
			b.WriteString(palette[rng.IntN(len(palette))])
		}
		texts[i] = b.String()
	}
	for _, name := range []string{CL100K, O200K} {
		tk, e := reference(t, name), Get(name)
		if err := e.Load(); err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			checkSplit(t, e, text)
			checkCount(t, e, tk, text)
		}
	}
}

// FuzzCountMatchesTiktoken checks that any text, valid UTF-8 or not, counts as many
// tokens as tiktoken-go's EncodeOrdinary finds, with both encodings.
func FuzzCountMatchesTiktoken(f *testing.F) {
	for _, text := range corpus {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, name := range []string{CL100K, O200K} {
			tk, e := reference(t, name), Get(name)
			if err := e.Load(); err != nil {
				t.Fatal(err)
			}
			checkSplit(t, e, text)
			checkCount(t, e, tk, text)
		}
	})
}
