package providertest

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/tollgate-llm/tollgate/fakellm"
)

// A path locates a string value in an upstream JSON body: the object keys leading to
// it, plus a "@role=<role>" segment for every enclosing object with a string "role".
type path []string

// has reports whether any segment contains sub, ignoring case.
func (p path) has(sub string) bool {
	sub = strings.ToLower(sub)
	for _, seg := range p {
		if strings.Contains(strings.ToLower(seg), sub) {
			return true
		}
	}
	return false
}

// inRole reports whether the value sits inside an object whose role is one of roles.
func (p path) inRole(roles ...string) bool {
	for _, seg := range p {
		for _, r := range roles {
			if strings.EqualFold(seg, "@role="+r) {
				return true
			}
		}
	}
	return false
}

func (p path) String() string { return strings.Join(p, ".") }

// find returns the paths of every string value (or object key) in the upstream body
// that contains needle.
func (s *suite) find(rec fakellm.Recorded, needle string) []path {
	s.t.Helper()
	var doc any
	if err := json.Unmarshal(rec.Body, &doc); err != nil {
		s.t.Fatalf("the upstream body is not JSON: %v: %.200s", err, rec.Body)
	}
	var out []path
	walk(doc, nil, func(p path, v string) {
		if strings.Contains(v, needle) {
			out = append(out, append(path(nil), p...))
		}
	})
	return out
}

func walk(v any, p path, visit func(path, string)) {
	switch x := v.(type) {
	case string:
		visit(p, x)
	case []any:
		for _, e := range x {
			walk(e, p, visit)
		}
	case map[string]any:
		if role, ok := x["role"].(string); ok {
			p = append(p, "@role="+role)
		}
		for k, e := range x {
			visit(append(p, k), k)
			walk(e, append(p, k), visit)
		}
	}
}

// sentWhere fails unless needle reached the upstream at a path that ok accepts.
func (s *suite) sentWhere(rec fakellm.Recorded, needle, what string, ok func(path) bool) {
	s.t.Helper()
	found := s.find(rec, needle)
	for _, p := range found {
		if ok(p) {
			return
		}
	}
	s.t.Errorf("%s %q did not reach the upstream where expected; found at %v in %.600s", what, needle, found, rec.Body)
}

// sent fails unless needle reached the upstream body somewhere.
func (s *suite) sent(rec fakellm.Recorded, needle, what string) {
	s.t.Helper()
	s.sentWhere(rec, needle, what, func(path) bool { return true })
}

// sentModel fails unless the upstream model name is in the body or the URL path, and
// the client's route name is in neither.
func (s *suite) sentModel(rec fakellm.Recorded) {
	s.t.Helper()
	p, _ := url.PathUnescape(rec.Path)
	if !strings.Contains(p, s.h.Model) && len(s.find(rec, s.h.Model)) == 0 {
		s.t.Errorf("the upstream model %q is neither in the path %q nor in the body", s.h.Model, rec.Path)
	}
	if strings.Contains(p, "client-route") || len(s.find(rec, "client-route")) > 0 {
		s.t.Errorf("the client's route name reached the upstream: %s %.300s", rec.Path, rec.Body)
	}
}
