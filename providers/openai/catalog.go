package openai

import (
	"slices"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// flavor is what tollgate knows about one OpenAI-compatible provider type.
type flavor struct {
	// baseURL is the public (or usual local) base URL, ending in the API version.
	baseURL string
	// needsKey is false for local servers that accept requests without a key.
	needsKey bool
	// noStreamOptions is set for upstreams that reject stream_options. tollgate then
	// neither adds it nor forwards the client's, and relies on the upstream sending usage
	// on its own.
	noStreamOptions bool
	// quirks are surgical request edits the upstream needs, applied in order.
	quirks []quirk
}

// quirk is one surgical edit of an outgoing request body. It receives a body tollgate
// owns, may return it or a new slice, and never changes anything it does not need to.
type quirk func(body []byte) ([]byte, error)

// catalog lists the OpenAI-compatible provider types. Response-side deviations (SSE
// comments, usage in x_groq or DeepSeek's cache fields, vLLM's top-level errors, numeric
// error codes) are tolerated by the shared parsing code for every type, because they are
// cheap to accept and harmless where absent.
//
// Non-standard finish_reason values (Together's "eos", Mistral's "model_length" and
// "error", DeepSeek's "insufficient_system_resource") are deliberately NOT rewritten:
// this dialect is a passthrough and the response bytes reach the client as the
// upstream sent them, except for the usage handling described in stream.go.
//
// Request-side rejections that cannot be fixed without changing what the client asked
// for are left to the upstream, whose 4xx then reaches the client with its message:
// Groq's 400 on logprobs, logit_bias, top_logprobs, messages[].name and n > 1.
var catalog = map[string]flavor{
	"openai":     {baseURL: "https://api.openai.com/v1", needsKey: true},
	"groq":       {baseURL: "https://api.groq.com/openai/v1", needsKey: true},
	"deepseek":   {baseURL: "https://api.deepseek.com/v1", needsKey: true},
	"together":   {baseURL: "https://api.together.xyz/v1", needsKey: true},
	"fireworks":  {baseURL: "https://api.fireworks.ai/inference/v1", needsKey: true},
	"xai":        {baseURL: "https://api.x.ai/v1", needsKey: true},
	"openrouter": {baseURL: "https://openrouter.ai/api/v1", needsKey: true},
	"perplexity": {baseURL: "https://api.perplexity.ai", needsKey: true},
	"cerebras":   {baseURL: "https://api.cerebras.ai/v1", needsKey: true},
	"ollama":     {baseURL: "http://localhost:11434/v1"},
	"vllm":       {baseURL: "http://localhost:8000/v1"},
	"lmstudio":   {baseURL: "http://localhost:1234/v1"},
	// Mistral validates request bodies strictly and answers 422 "extra_forbidden" for
	// fields it does not know, stream_options among them; it sends usage on the last
	// stream chunk unasked.
	"mistral": {
		baseURL: "https://api.mistral.ai/v1", needsKey: true, noStreamOptions: true,
		quirks: []quirk{mistralToolChoice, mistralSeed, mistralMaxTokens},
	},
}

// CatalogNames lists the OpenAI-compatible provider types this dialect serves besides
// "openai" itself, sorted.
func CatalogNames() []string {
	out := make([]string, 0, len(catalog))
	for name := range catalog {
		if name != "openai" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// DefaultBaseURL returns the base URL that provider type t uses when none is
// configured, or "" when t is not in the catalog.
func DefaultBaseURL(t string) string { return catalog[t].baseURL }

// RequiresKey reports whether provider type t needs an API key. Local servers (ollama,
// vllm, lmstudio) do not; types outside the catalog are assumed to.
func RequiresKey(t string) bool {
	f, ok := catalog[t]
	return !ok || f.needsKey
}

// mistralToolChoice rewrites tool_choice "required" to Mistral's "any", which means the
// same: the model must call a tool. Object forms and other strings pass unchanged.
func mistralToolChoice(body []byte) ([]byte, error) {
	tc := gjson.Get(unsafeString(body), "tool_choice")
	if tc.Type != gjson.String || tc.Str != "required" {
		return body, nil
	}
	return sjson.SetBytesOptions(body, "tool_choice", "any", setOpts)
}

// mistralSeed renames seed to Mistral's random_seed (Mistral rejects seed), unless the
// client already sent random_seed.
func mistralSeed(body []byte) ([]byte, error) { return rename(body, "seed", "random_seed") }

// mistralMaxTokens renames max_completion_tokens to max_tokens, which Mistral accepts
// with the same meaning, unless the client already sent max_tokens.
func mistralMaxTokens(body []byte) ([]byte, error) {
	return rename(body, "max_completion_tokens", "max_tokens")
}

// rename moves the top-level member from to the name to, keeping its raw value. The
// renamed member moves to the end of the object; every other byte stays in place.
func rename(body []byte, from, to string) ([]byte, error) {
	v := gjson.Get(unsafeString(body), from)
	if !v.Exists() || gjson.Get(unsafeString(body), to).Exists() {
		return body, nil
	}
	out, err := sjson.SetRawBytesOptions(body, to, []byte(v.Raw), setOpts)
	if err != nil {
		return nil, err
	}
	return sjson.DeleteBytes(out, from)
}
