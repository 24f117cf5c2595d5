package anthropic

import (
	"encoding/json"
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"
)

// The fast path: text and tool-argument deltas are nearly every event of a stream.
// Their JSON string literal is copied from the validated event into a chunk built in a
// reused buffer, without decoding or re-encoding it; every other event takes the
// general path (translate).

const (
	textOpen  = `{"index":0,"delta":{"content":`
	argsOpen  = `{"index":0,"delta":{"tool_calls":[{"index":`
	argsMid   = `,"function":{"arguments":`
	textClose = `},"logprobs":null,"finish_reason":null}]}`
	argsClose = `}}]},"logprobs":null,"finish_reason":null}]}`
)

// chunkPrefix is a chunk's envelope up to the choices array's first element.
func chunkPrefix(id, model string, created int64) []byte {
	b := []byte(`{"id":`)
	b = appendQuoted(b, id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = appendQuoted(b, model)
	return append(b, `,"choices":[`...)
}

func appendQuoted(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// fastDelta renders a non-empty text_delta or input_json_delta of a known block; ok is
// false for any other event, which then takes the general path. data is valid JSON.
func (s *stream) fastDelta(data []byte) ([]byte, bool) {
	if !s.started {
		return nil, false
	}
	doc := unsafeString(data)
	if gjson.Get(doc, "type").Str != "content_block_delta" {
		return nil, false
	}
	// Only the exact canonical shape takes the fast path: the general path decodes with
	// encoding/json, which matches keys case-insensitively, so an event with extra or
	// case-variant keys must be judged there for both paths to agree.
	d := gjson.Get(doc, "delta")
	if gjson.Get(doc, "index").Type != gjson.Number || keyCount(doc) != 3 || keyCount(d.Raw) != 2 {
		return nil, false
	}
	switch d.Get("type").Str {
	case "text_delta":
		text := d.Get("text")
		if text.Type != gjson.String || text.Str == "" {
			return nil, false
		}
		s.buf = append(append(append(append(s.buf[:0], s.prefix...), textOpen...), text.Raw...), textClose...)
		return s.buf, true
	case "input_json_delta":
		idx := gjson.Get(doc, "index")
		k, known := s.tools[int(idx.Int())]
		part := d.Get("partial_json")
		if idx.Type != gjson.Number || idx.Raw != strconv.Itoa(int(idx.Int())) || !known || part.Type != gjson.String || part.Str == "" {
			return nil, false
		}
		b := append(append(s.buf[:0], s.prefix...), argsOpen...)
		b = strconv.AppendInt(b, int64(k), 10)
		s.buf = append(append(append(b, argsMid...), part.Raw...), argsClose...)
		return s.buf, true
	}
	return nil, false
}

// keyCount counts the members of a JSON object.
func keyCount(obj string) int {
	n := 0
	gjson.Parse(obj).ForEach(func(_, _ gjson.Result) bool { n++; return true })
	return n
}

// unsafeString views b as a string without a copy; b must not change while the string
// is in use (here: until the next event is read).
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
