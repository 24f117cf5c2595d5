// Package azure is the Azure OpenAI dialect. Azure OpenAI speaks OpenAI's body format,
// so this package is the OpenAI passthrough (providers/openai) with Azure's URLs, auth
// header, stream annotations and errors plugged in through openai.Hooks; bodies travel
// as bytes with the same surgical edits, and chat, legacy completions and embeddings
// are all supported.
//
// # URLs
//
// base_url is the resource endpoint, https://{resource}.openai.azure.com (a trailing
// "/openai" is tolerated). Two routes exist:
//
//   - Classic (the default): {base}/openai/deployments/{deployment}/chat/completions
//     ?api-version={api_version}, and likewise /completions and /embeddings. The
//     deployment is the target's upstream model name. api_version defaults to
//     DefaultAPIVersion, the newest GA inference version; versions before
//     2024-09-01-preview are refused, as they reject the stream_options.include_usage
//     that tollgate sends on every stream to bill it (any resource accepts any version).
//   - v1 (GA since August 2025): chosen when base_url ends in /openai/v1, or api_version
//     is "v1" or "preview". Requests go to {base}/openai/v1/chat/completions with the
//     deployment name as the body's model and no dated api-version ("preview" is sent
//     as api-version=preview, which opts in to preview features).
//
// # Auth
//
// The key travels in the api-key header. A secret that is a JWT (three dot-separated
// base64url parts starting with "eyJ", which is what Microsoft Entra ID access tokens
// are) is sent as "Authorization: Bearer" instead: Azure API keys never contain dots,
// so the two cannot be confused. A token expires within hours, so an operator who uses
// one must rotate the stored secret.
//
// # Streams
//
// Azure opens a stream with a chunk whose choices are empty and whose id and model are
// "", carrying only prompt_filter_results; with asynchronous content filtering it also
// sends chunks whose choices have content_filter_results but no delta. OpenAI never
// sends either, and SDK code that reads choices[0].delta breaks on them (see
// microsoft/autogen#6465, langchain#18977), so they are withheld from the client. Every
// other chunk passes through byte for byte, content_filter_results included, and a
// completion stopped by the filter keeps finish_reason "content_filter".
//
// # Errors
//
// A prompt rejected by the content filter is a 400 whose error has code
// "content_filter" (or innererror.code "ResponsibleAIPolicyViolation"): the client gets
// status 400, type invalid_request_error and code "content_filter". Azure's numeric
// string codes ("401", "429") become OpenAI's (invalid_api_key, rate_limit_exceeded).
// Waits come from retry-after-ms, retry-after, then x-ms-retry-after-ms.
package azure

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// DefaultAPIVersion is the api-version of the classic route when none is configured.
const DefaultAPIVersion = "2024-10-21"

// oldestAPIVersion is the first api-version that accepts stream_options, which tollgate
// sends on every stream to bill it; any Azure resource accepts any supported version,
// so an older one is refused at configuration time rather than failing every stream.
const oldestAPIVersion = "2024-09-01"

var datedVersion = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$`)

// New builds an Azure OpenAI provider for cfg. cfg.BaseURL is required.
func New(cfg providers.Config) (providers.Provider, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("provider %q: azure needs base_url, the resource endpoint (https://{resource}.openai.azure.com)", cfg.Name)
	}
	r, err := newRoute(cfg.BaseURL, cfg.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", cfg.Name, err)
	}
	cfg.BaseURL = r.base
	return openai.NewWithHooks(cfg, openai.Hooks{URL: r.url, Auth: setAuth, Drop: dropChunk, Error: amendError})
}

// setAuth sends an API key as api-key and an Entra ID token as a bearer token.
func setAuth(h http.Header, key schema.Secret) {
	if isJWT(key.Reveal()) {
		h.Set("Authorization", "Bearer "+key.Reveal())
		return
	}
	h.Set("api-key", key.Reveal())
}

// isJWT reports whether s has a JWT's shape: three non-empty base64url parts, the
// first one a JSON object ("eyJ" is base64 of `{"`).
func isJWT(s string) bool {
	if !strings.HasPrefix(s, "eyJ") || strings.Count(s, ".") != 2 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// route is how URLs are built for one configured resource.
type route struct {
	base string // scheme and host, plus any path prefix before /openai
	v1   bool
	// query is the encoded query string: api-version=..., or "" on the v1 GA route.
	query string
}

// newRoute reads the route from the configured base URL and API version.
func newRoute(base, version string) (route, error) {
	base = strings.TrimRight(base, "/")
	r := route{}
	switch {
	case strings.HasSuffix(base, "/openai/v1"):
		r.v1, base = true, strings.TrimSuffix(base, "/openai/v1")
	case version == "v1" || version == "preview":
		r.v1, base = true, strings.TrimSuffix(base, "/openai")
	default:
		base = strings.TrimSuffix(base, "/openai")
	}
	if strings.Contains(base, "/openai/") {
		return route{}, fmt.Errorf("azure base_url must be the resource endpoint, without /openai/deployments/...")
	}
	r.base = base
	switch {
	case r.v1 && (version == "" || version == "v1"):
	case r.v1 && version == "preview":
		r.query = "api-version=preview"
	case r.v1:
		return route{}, fmt.Errorf("azure api_version %q cannot be used on the /openai/v1 route: use v1, preview or nothing", version)
	case version == "":
		r.query = "api-version=" + DefaultAPIVersion
	case !datedVersion.MatchString(version):
		return route{}, fmt.Errorf("azure api_version %q is not a dated version (YYYY-MM-DD[-preview]), v1 or preview", version)
	case version < oldestAPIVersion:
		return route{}, fmt.Errorf("azure api_version %s predates stream usage reporting: use %s or later", version, DefaultAPIVersion)
	default:
		r.query = "api-version=" + version
	}
	return r, nil
}

// url returns the URL of endpoint for a deployment (the upstream model).
func (r route) url(base string, endpoint schema.Endpoint, model string) string {
	var b strings.Builder
	b.WriteString(base)
	if r.v1 {
		b.WriteString("/openai/v1")
	} else {
		b.WriteString("/openai/deployments/")
		b.WriteString(url.PathEscape(model))
	}
	b.WriteString(endpoint.Path())
	if r.query != "" {
		b.WriteByte('?')
		b.WriteString(r.query)
	}
	return b.String()
}
