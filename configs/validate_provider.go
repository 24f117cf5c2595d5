package configs

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tollgate-llm/tollgate/providers/registry"
)

// credentialHeaders may not be set in Provider.Headers: their values are secrets,
// which belong in Provider.Keys as references.
var credentialHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "api-key": true,
	"x-api-key": true, "x-goog-api-key": true, "cookie": true,
}

// providers checks every provider and returns the set of valid, unique names.
func (v *validator) providers() map[string]bool {
	names := make(map[string]bool, len(v.c.Providers))
	first := make(map[string]int, len(v.c.Providers))
	for i, p := range v.c.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		switch j, dup := first[p.Name]; {
		case p.Name == "":
			v.add(path+".name", "is required")
		case !validName(p.Name):
			v.add(path+".name", "%q may only contain letters, digits, '.', '_' and '-'", p.Name)
		case dup:
			v.add(path+".name", "duplicate provider name %q (also providers[%d])", p.Name, j)
		default:
			first[p.Name] = i
			names[p.Name] = true
		}
		v.provider(path, i, p)
	}
	return names
}

func (v *validator) provider(path string, i int, p Provider) {
	switch {
	case p.Type == "":
		v.add(path+".type", "is required (one of: %s)", strings.Join(registry.Types(), ", "))
	case !registry.Known(p.Type):
		v.add(path+".type", "unknown provider type %q (known: %s)", p.Type, strings.Join(registry.Types(), ", "))
	}
	if p.BaseURL != "" {
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(path+".base_url", "must be an absolute http:// or https:// URL")
		} else if u.User != nil {
			v.add(path+".base_url", "must not contain credentials; put them in keys as env: or file: references")
		}
	}
	for name := range p.Headers {
		hp := path + ".headers." + name
		switch {
		case !validHeaderName(name):
			v.add(hp, "%q is not a valid header name", name)
		case credentialHeaders[strings.ToLower(name)]:
			v.add(hp, "credentials are not allowed in headers; put them in keys as env: or file: references")
		}
	}
	for j, k := range p.Keys {
		kp := fmt.Sprintf("%s.keys[%d]", path, j)
		v.secret(kp+".secret", k.Secret, p, i)
		if k.Weight < 0 {
			v.add(kp+".weight", "must not be negative")
		}
	}
	v.duration(path+".timeout", p.Timeout)
}

// secret checks one key reference and, when it is wrong, shows a reference that
// would be right for this provider.
func (v *validator) secret(path string, r SecretRef, p Provider, i int) {
	if r.Kind() != "" {
		return
	}
	env, file := suggestRefs(p, i)
	hint := fmt.Sprintf(`use "env:%s" or "file:%s"`, env, file)
	switch {
	case r.IsZero():
		v.add(path, "is required; %s", hint)
	default:
		v.add(path, "%s; %s", r.problem, hint)
	}
}

// suggestRefs names the environment variable and file a provider's key would
// conventionally live in.
func suggestRefs(p Provider, i int) (env, file string) {
	name := p.Name
	if name == "" {
		name = fmt.Sprintf("provider%d", i)
	}
	if env = envVarFor(p.Type); env == "" {
		env = strings.ToUpper(sanitize(name)) + "_API_KEY"
	}
	return env, "/run/secrets/" + sanitize(name)
}

// sanitize keeps letters and digits and turns everything else into '_'.
func sanitize(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return c
		}
		return '_'
	}, s)
}

func validName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return s != ""
}
