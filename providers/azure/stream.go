package azure

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Byte patterns looked for before any structural lookup. A chunk to withhold contains
// one of the filter keys and no "delta" key; since a quoted key appears unescaped in
// JSON only as a key or a whole string value, most chunks are decided by these alone.
var (
	promptFilterKey  = []byte(`"prompt_filter_results"`)
	promptAnnotKey   = []byte(`"prompt_annotations"`)
	contentFilterKey = []byte(`"content_filter_results"`)
	deltaKey         = []byte(`"delta"`)
)

// dropChunk reports whether a chunk is one of Azure's content-filter annotations that
// OpenAI never sends: the opening chunk with no choices and no usage that carries
// prompt_filter_results (prompt_annotations in 2023 API versions), and the
// asynchronous-filter chunks whose choices all lack a delta and a finish_reason.
func dropChunk(chunk []byte) bool {
	if bytes.Contains(chunk, deltaKey) || !bytes.Contains(chunk, contentFilterKey) &&
		!bytes.Contains(chunk, promptFilterKey) && !bytes.Contains(chunk, promptAnnotKey) {
		return false
	}
	doc := gjson.ParseBytes(chunk)
	if u := doc.Get("usage"); u.IsObject() {
		return false
	}
	choices := doc.Get("choices")
	if !choices.IsArray() || len(choices.Array()) == 0 {
		return true
	}
	annotation := true
	choices.ForEach(func(_, c gjson.Result) bool {
		if c.Get("delta").Exists() || (c.Get("finish_reason").Exists() && c.Get("finish_reason").Type != gjson.Null) {
			annotation = false
		}
		return annotation
	})
	return annotation
}
