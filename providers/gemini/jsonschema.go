package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// supportedKeywords are the JSON Schema keywords Gemini documents for
// responseJsonSchema and parametersJsonSchema (google.genai types, "only the following
// properties are supported"). Others ($schema, pattern, allOf, uniqueItems, default,
// ...) are removed: some are rejected with a 400, the rest would be ignored anyway.
var supportedKeywords = map[string]bool{
	"$id": true, "$defs": true, "$ref": true, "$anchor": true, "type": true, "format": true,
	"title": true, "description": true, "enum": true, "items": true, "prefixItems": true,
	"minItems": true, "maxItems": true, "minimum": true, "maximum": true, "anyOf": true,
	"oneOf": true, "properties": true, "additionalProperties": true, "required": true,
	"propertyOrdering": true,
}

var errNotSchema = errors.New("not a JSON Schema object")

// cleanSchema returns raw with every unsupported keyword removed at every depth, and
// "const" rewritten as a one-value "enum". Key order is kept: Gemini generates
// properties in schema order. Empty input stays empty.
func cleanSchema(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	doc, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errNotSchema
	}
	obj, ok := doc.(object)
	if !ok {
		return nil, errNotSchema
	}
	return json.Marshal(cleanNode(obj))
}

// cleanNode cleans one schema object. A $ref may only have $-keywords beside it.
func cleanNode(s object) object {
	out := make(object, 0, len(s))
	_, isRef := s.get("$ref")
	_, hasEnum := s.get("enum")
	for _, m := range s {
		switch {
		case m.key == "const" && !hasEnum:
			out = append(out, member{"enum", []any{m.val}})
		case !supportedKeywords[m.key] || (isRef && !strings.HasPrefix(m.key, "$")):
		default:
			out = append(out, member{m.key, cleanValue(m.key, m.val)})
		}
	}
	return out
}

// cleanValue cleans the subschemas a keyword holds: maps of schemas (properties,
// $defs), lists (anyOf, oneOf, prefixItems) and single schemas (items,
// additionalProperties). Other values are kept as they are.
func cleanValue(keyword string, v any) any {
	switch keyword {
	case "properties", "$defs":
		o, ok := v.(object)
		if !ok {
			return v
		}
		out := make(object, len(o))
		for i, m := range o {
			out[i] = member{m.key, cleanAny(m.val)}
		}
		return out
	case "anyOf", "oneOf", "prefixItems":
		list, ok := v.([]any)
		if !ok {
			return v
		}
		out := make([]any, len(list))
		for i, sub := range list {
			out[i] = cleanAny(sub)
		}
		return out
	case "items", "additionalProperties":
		return cleanAny(v)
	}
	return v
}

func cleanAny(v any) any {
	if o, ok := v.(object); ok {
		return cleanNode(o)
	}
	return v
}

// object is a JSON object that keeps its key order.
type object []member

type member struct {
	key string
	val any
}

func (o object) get(key string) (any, bool) {
	for _, m := range o {
		if m.key == key {
			return m.val, true
		}
	}
	return nil, false
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key) // a string always marshals
		v, err := json.Marshal(m.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeOrdered reads one JSON value, objects as object, arrays as []any, numbers as
// json.Number.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return decodeObject(dec)
		}
		if t == '[' {
			return decodeArray(dec)
		}
		return nil, errNotSchema
	default:
		return t, nil
	}
}

func decodeObject(dec *json.Decoder) (object, error) {
	out := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errNotSchema
		}
		v, err := decodeOrdered(dec)
		if err != nil {
			return nil, err
		}
		out = append(out, member{key, v})
	}
	_, err := dec.Token() // the closing brace
	return out, err
}

func decodeArray(dec *json.Decoder) ([]any, error) {
	out := []any{}
	for dec.More() {
		v, err := decodeOrdered(dec)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	_, err := dec.Token() // the closing bracket
	return out, err
}
