package openai

import (
	"encoding/json"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// requestBody returns the bytes to send upstream: the client's body with the model set
// to call.Model, the stream flag matching the method, include_usage asked for on streams,
// and the flavor's quirks applied. Every edit builds a new slice (sjson without
// ReplaceInPlace, or appendMember) and none writes to call.Request.Body, so a retry or a
// fallback starts again from the client's bytes. When nothing needs changing the client's
// slice itself is returned; it is only read.
func (c *Client) requestBody(call *providers.Call, stream bool) ([]byte, error) {
	body := call.Request.Body
	var err error
	if call.Model != "" && gjson.Get(unsafeString(body), "model").Str != call.Model {
		if body, err = sjson.SetRawBytesOptions(body, "model", quote(call.Model), setOpts); err != nil {
			return nil, err
		}
	}
	if body, err = setStream(body, stream); err != nil {
		return nil, err
	}
	if stream {
		if body, err = c.setStreamOptions(body); err != nil {
			return nil, err
		}
	}
	for _, q := range c.flavor.quirks {
		if body, err = q(body); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// setStream makes the body's stream flag match the method that sends it, so that a
// streamed call never gets a JSON answer and a complete call never gets SSE. A body that
// already agrees is not touched; an absent flag already means false.
func setStream(body []byte, stream bool) ([]byte, error) {
	if gjson.Get(unsafeString(body), "stream").Bool() == stream {
		return body, nil
	}
	return sjson.SetBytesOptions(body, "stream", stream, setOpts)
}

// setStreamOptions asks the upstream for the final usage chunk, keeping any other
// stream_options the client sent. For upstreams that reject the field it removes the
// client's stream_options instead; those send usage unasked.
func (c *Client) setStreamOptions(body []byte) ([]byte, error) {
	if c.flavor.noStreamOptions {
		if !gjson.Get(unsafeString(body), "stream_options").Exists() {
			return body, nil
		}
		return sjson.DeleteBytes(body, "stream_options")
	}
	opts := gjson.Get(unsafeString(body), "stream_options")
	switch {
	case opts.Get("include_usage").Type == gjson.True:
		return body, nil
	case !opts.Exists():
		if out, ok := appendMember(body, `"stream_options":{"include_usage":true}`); ok {
			return out, nil
		}
	}
	return sjson.SetBytesOptions(body, "stream_options.include_usage", true, setOpts)
}

// appendMember returns a copy of the JSON object body with member added before its
// closing brace, as sjson would place it, in one allocation. ok is false when body
// does not end with an object.
func appendMember(body []byte, member string) ([]byte, bool) {
	end := skipSpaceBack(unsafeString(body), len(body)-1)
	if end < 1 || body[end] != '}' {
		return nil, false
	}
	out := make([]byte, 0, len(body)+len(member)+1)
	out = append(out, body[:end]...)
	if prev := skipSpaceBack(unsafeString(body), end-1); prev >= 0 && body[prev] != '{' {
		out = append(out, ',')
	}
	out = append(out, member...)
	return append(out, body[end:]...), true
}

// quote returns s as a JSON string. Model names are plain ASCII and need no escaping;
// anything else goes through encoding/json.
func quote(s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b, _ := json.Marshal(s) // a string always marshals
			return b
		}
	}
	b := make([]byte, 0, len(s)+2)
	return append(append(append(b, '"'), s...), '"')
}

// usageOf reads the usage object of a response or chunk: OpenAI's top-level usage, or
// Groq's x_groq.usage on the last chunk of older Groq streams.
func usageOf(doc string) (schema.Usage, bool) {
	u := gjson.Get(doc, "usage")
	if !u.IsObject() {
		u = gjson.Get(doc, "x_groq.usage")
	}
	if !u.IsObject() {
		return schema.Usage{}, false
	}
	return parseUsage(u), true
}

// parseUsage converts an OpenAI usage object. DeepSeek reports cache reads as
// prompt_cache_hit_tokens; it is used when prompt_tokens_details.cached_tokens is
// absent. A missing total is the sum of prompt and completion tokens.
func parseUsage(u gjson.Result) schema.Usage {
	us := schema.Usage{
		PromptTokens:     u.Get("prompt_tokens").Int(),
		CompletionTokens: u.Get("completion_tokens").Int(),
		TotalTokens:      u.Get("total_tokens").Int(),
		CacheWriteTokens: u.Get("prompt_tokens_details.cache_write_tokens").Int(),
		ReasoningTokens:  u.Get("completion_tokens_details.reasoning_tokens").Int(),
	}
	if cached := u.Get("prompt_tokens_details.cached_tokens"); cached.Exists() && cached.Type != gjson.Null {
		us.CachedTokens = cached.Int()
	} else {
		us.CachedTokens = u.Get("prompt_cache_hit_tokens").Int()
	}
	if us.TotalTokens == 0 {
		us.TotalTokens = us.PromptTokens + us.CompletionTokens
	}
	return us
}

// unsafeString views b as a string without copying, so that gjson can read a chunk
// without allocating. The string must not outlive b's current contents: results taken
// from it are used at once and never kept.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// memberSpan returns the byte range to cut from the object doc to remove the member
// whose value v (found by gjson, so v.Index is its offset) starts at v.Index: the key, the
// colon, the value and one adjoining comma. ok is false when the bytes around the value
// do not look like `"key" : value`, in which case nothing should be cut.
func memberSpan(doc string, key string, v gjson.Result) (from, to int, ok bool) {
	if v.Index <= 0 {
		return 0, 0, false
	}
	i := skipSpaceBack(doc, v.Index-1)
	if i < 0 || doc[i] != ':' {
		return 0, 0, false
	}
	i = skipSpaceBack(doc, i-1)
	start := i - len(key) - 1
	if start < 0 || doc[start] != '"' || doc[start+1:i] != key || doc[i] != '"' {
		return 0, 0, false
	}
	end := v.Index + len(v.Raw)
	p := skipSpaceBack(doc, start-1)
	if p >= 0 && doc[p] == ',' {
		return p, end, true
	}
	if p < 0 || doc[p] != '{' {
		return 0, 0, false
	}
	// The member is the first one: take the comma after it instead, if any.
	if n := skipSpace(doc, end); n < len(doc) && doc[n] == ',' {
		return start, skipSpace(doc, n+1), true
	}
	return start, end, true
}

func skipSpaceBack(s string, i int) int {
	for i >= 0 && isSpace(s[i]) {
		i--
	}
	return i
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isEmptyArray reports whether raw JSON is an array with no elements.
func isEmptyArray(raw string) bool {
	if len(raw) < 2 || raw[0] != '[' {
		return false
	}
	i := skipSpace(raw, 1)
	return i < len(raw) && raw[i] == ']'
}
