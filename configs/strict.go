package configs

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// shapeChecker walks a YAML tree against the Go type it will decode into, before
// decoding, so that every mismatch is reported with its field path and line instead
// of yaml.v3's type names. It reports values only by kind, never by content: a
// misplaced secret must not be echoed. It also records the line of every path, for
// Validate's messages.
type shapeChecker struct {
	file  string
	lines map[string]int
	errs  []error
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (w *shapeChecker) fail(line int, path, msg string) {
	w.errs = append(w.errs, &FieldError{Source: w.file, Line: line, Path: path, Msg: msg})
}

func (w *shapeChecker) walk(n *yaml.Node, t reflect.Type, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if path != "" {
		if _, seen := w.lines[path]; !seen {
			w.lines[path] = n.Line
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case reflect.PointerTo(t).Implements(unmarshalerType):
		if err := reflect.New(t).Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			w.fail(n.Line, path, err.Error())
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.fail(n.Line, path, "expected a mapping of fields, found "+nodeKind(n))
			return
		}
		w.walkStruct(n, t, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.fail(n.Line, path, "expected a list, found "+nodeKind(n))
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.fail(n.Line, path, "expected a mapping, found "+nodeKind(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], t.Elem(), path+"."+n.Content[i].Value)
		}
	default:
		if n.Kind != yaml.ScalarNode || n.Decode(reflect.New(t).Interface()) != nil {
			w.fail(n.Line, path, "expected "+kindName(t)+", found "+nodeKind(n))
		}
	}
}

func (w *shapeChecker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			w.walkMerge(v, t, path)
			continue
		}
		p := joinPath(path, k.Value)
		ft, ok := fields[k.Value]
		if !ok {
			w.fail(k.Line, p, "unknown field"+fieldHint(k.Value, fields))
			continue
		}
		w.walk(v, ft, p)
	}
}

// walkMerge checks a "<<: *anchor" merge, whose value is a mapping or a list of them.
func (w *shapeChecker) walkMerge(v *yaml.Node, t reflect.Type, path string) {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind == yaml.SequenceNode {
		for _, c := range v.Content {
			w.walk(c, t, path)
		}
		return
	}
	w.walk(v, t, path)
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// yamlFields maps the YAML names of t's exported fields to their types, as yaml.v3
// names them (tag name, else the lowercased field name).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// fieldHint suggests what was meant by an unknown field name.
func fieldHint(name string, fields map[string]reflect.Type) string {
	switch strings.ToLower(name) {
	case "api_key", "apikey", "key", "secret", "token":
		if _, ok := fields["keys"]; ok {
			return `; credentials go in keys: [{secret: "env:NAME"}]`
		}
	case "api_base", "base", "url", "endpoint":
		if _, ok := fields["base_url"]; ok {
			return `; did you mean "base_url"?`
		}
	}
	best, bestDist := "", 3
	for f := range fields {
		if d := editDistance(strings.ToLower(name), f); d < bestDist || (d == bestDist && f < best) {
			best, bestDist = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a string"
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a string"
}
