// Package tokens counts tokens with tiktoken's BPE tables, compiled into the binary by
// tiktoken-go-loader, so nothing is ever downloaded at run time. It is the one place
// that sets tiktoken-go's package-level loader; quota (estimates before a request) and
// billing (counting what a stream cut short produced) both count through it.
package tokens

import (
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

var loaderOnce sync.Once

func build(name string) func() (*tiktoken.Tiktoken, error) {
	return sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
		loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
		return tiktoken.GetEncoding(name)
	})
}

// encoders build each encoding once; building one parses its table (tens of ms).
var encoders = map[string]func() (*tiktoken.Tiktoken, error){
	tiktoken.MODEL_O200K_BASE:  build(tiktoken.MODEL_O200K_BASE),
	tiktoken.MODEL_CL100K_BASE: build(tiktoken.MODEL_CL100K_BASE),
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
			return tiktoken.MODEL_O200K_BASE
		}
	}
	return tiktoken.MODEL_CL100K_BASE
}

// Encoding returns the named encoding, built on first use.
func Encoding(name string) (*tiktoken.Tiktoken, error) {
	b, ok := encoders[name]
	if !ok {
		b = encoders[tiktoken.MODEL_CL100K_BASE]
	}
	return b()
}

// Warm builds every encoding now, so that the first request does not pay for it.
func Warm() error {
	for _, b := range encoders {
		if _, err := b(); err != nil {
			return err
		}
	}
	return nil
}

// Count counts the tokens of text exactly as model's tokenizer would (see
// EncodingFor). Special-token markers count as plain text. If the encoding cannot be
// built it falls back to one token per four bytes, which never returns zero for text.
func Count(model, text string) int64 {
	if text == "" {
		return 0
	}
	enc, err := Encoding(EncodingFor(model))
	if err != nil {
		return int64(len(text)+3) / 4
	}
	return int64(len(enc.EncodeOrdinary(text)))
}
