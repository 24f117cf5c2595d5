package openai

import (
	"net/http"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// Hooks adapt the passthrough to an upstream that speaks OpenAI's body format behind
// other URLs, another auth header or with extra stream chunks, such as Azure OpenAI.
// Nil fields keep OpenAI's behaviour. The body edits (model, stream, include_usage) and
// the response handling stay the same.
type Hooks struct {
	// URL returns the upstream URL of endpoint for the upstream model, below base (the
	// configured base URL without its trailing slash).
	URL func(base string, endpoint schema.Endpoint, model string) string
	// Auth puts the credential on an outgoing request's headers; nil means
	// "Authorization: Bearer <key>".
	Auth func(h http.Header, key schema.Secret)
	// Drop reports whether a stream chunk is withheld from the client. It sees every
	// chunk that is not an error, before the usage handling.
	Drop func(chunk []byte) bool
	// Error amends the error built from a non-2xx answer: its status, headers and body.
	Error func(e *apierr.Error, h http.Header, body []byte)
}

// NewWithHooks builds an OpenAI-dialect provider for cfg, as New does, adapted by h.
func NewWithHooks(cfg providers.Config, h Hooks) (providers.Provider, error) {
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c := p.(*Client)
	c.hooks = h
	return c, nil
}

// url returns the upstream URL of the call's endpoint.
func (c *Client) url(endpoint schema.Endpoint, model string) string {
	if c.hooks.URL != nil {
		return c.hooks.URL(c.base, endpoint, model)
	}
	return c.base + endpoint.Path()
}

// setAuth puts the credential on h, when there is one.
func (c *Client) setAuth(h http.Header, key schema.Secret) {
	switch {
	case key.Empty():
	case c.hooks.Auth != nil:
		c.hooks.Auth(h, key)
	default:
		h.Set("Authorization", "Bearer "+key.Reveal())
	}
}
