package admin

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
)

// Decode reads a JSON request body into v strictly: the body must be one JSON object
// whose fields v knows. A misspelt field is an error rather than silently ignored,
// since a key created without the scopes its author meant is wider than intended. An
// empty body is an empty object. Error messages never echo the input, which may hold
// secrets; an unknown field is named only when it looks like a field name.
func Decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return apierr.InvalidJSON("The request body must be a JSON object.")
	}
	known := jsonFields(reflect.TypeOf(v).Elem())
	for name := range fields {
		if !known[name] {
			msg := "The request has a field tollgate does not know."
			if plainName(name) {
				msg = "Unknown field '" + name + "'."
			}
			return apierr.InvalidValue(name, msg)
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
			return apierr.InvalidValue(te.Field, "Field '"+te.Field+"' must be "+te.Type.String()+".")
		}
		if ae, ok := err.(*apierr.Error); ok {
			return ae
		}
		return apierr.InvalidJSON("The request body has a value of the wrong shape.")
	}
	return nil
}

// plainName reports whether s is short and lower-case, like a field name and unlike a
// key.
func plainName(s string) bool {
	return len(s) > 0 && len(s) <= 40 && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '.' || r >= 'a' && r <= 'z')
	}) < 0
}

// jsonFields returns the JSON names of a struct's fields, embedded structs included.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for n := range jsonFields(f.Type) {
				out[n] = true
			}
		case name != "":
			out[name] = true
		case f.IsExported():
			out[f.Name] = true
		}
	}
	return out
}
