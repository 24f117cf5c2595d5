package anthropic

import "strings"

// DefaultMaxTokens is the max_tokens sent for a model missing from the output-limit
// table when the client set no limit: every Claude model accepts it, so a request never
// fails for it, at the price of a "length" finish on very long answers from a model
// tollgate does not know yet. Set max_tokens (or max_completion_tokens) to go further.
const DefaultMaxTokens = 4096

// outputLimits are the maximum output tokens of known Claude models (Anthropic's
// models overview), keyed by model id prefix so that dated ids and -latest aliases
// match. Anthropic requires max_tokens while OpenAI clients often omit it; tollgate
// then asks for the model's whole output limit, which is what OpenAI does by default.
var outputLimits = []struct {
	prefix string
	limit  int64
}{
	{"claude-opus-4-6", 128000},
	{"claude-sonnet-4-6", 64000},
	{"claude-opus-4-5", 64000},
	{"claude-sonnet-4-5", 64000},
	{"claude-haiku-4-5", 64000},
	{"claude-opus-4-1", 32000},
	{"claude-opus-4", 32000},
	{"claude-sonnet-4", 64000},
	{"claude-3-7-sonnet", 64000},
	{"claude-3-5-sonnet", 8192},
	{"claude-3-5-haiku", 8192},
	{"claude-3-opus", 4096},
	{"claude-3-sonnet", 4096},
	{"claude-3-haiku", 4096},
}

// MaxOutputTokens returns the output limit of model: the longest matching prefix in
// the table, or DefaultMaxTokens.
func MaxOutputTokens(model string) int64 {
	best, limit := 0, int64(DefaultMaxTokens)
	for _, m := range outputLimits {
		if strings.HasPrefix(model, m.prefix) && len(m.prefix) > best {
			best, limit = len(m.prefix), m.limit
		}
	}
	return limit
}
