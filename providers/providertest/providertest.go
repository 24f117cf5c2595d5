// Package providertest is the conformance suite every provider dialect runs. A dialect
// describes itself with a Harness and calls Run from its conformance_test.go; Run starts
// an in-process fakellm.Server for every case and checks two sides of each exchange: the
// OpenAI-shaped answer the provider returns (bodies, chunks, usage, errors) and what the
// fake upstream received in the provider's own dialect (fakellm.Server.LastRequest).
//
// The upstream checks are dialect-neutral: they walk the upstream JSON and look for the
// values the client sent in the places every dialect keeps them (a system prompt under a
// key containing "system" or in a message whose role is system or developer; stop
// sequences under a key containing "stop"), so one suite serves every dialect.
//
// The cases, named for Harness.Skip:
//
//	text               plain text in and out; the model, headers and key reach the upstream
//	system             the system prompt arrives where the dialect keeps system prompts
//	tools              a two-turn tool call (call, then the tool result), and tool_choice
//	tools_stream       the same, streamed: tool-call deltas in OpenAI's framing
//	image              a base64 data: URL image part reaches the upstream as image data
//	json_mode          response_format json_object and json_schema give JSON content
//	stop               stop sequences reach the upstream and end the answer early
//	usage              cache reads, cache writes and reasoning normalised to OpenAI usage
//	usage_stream_equal a streamed request reports the same usage as the unstreamed one
//	errors             upstream failures become *apierr.Error with the right status
//	cancel             a cancelled or expired context ends calls and streams
//	embeddings         embeddings as floats and as base64
//	go_openai_stream   go-openai's stream parser accepts the translated streams
//
// The fake answers deterministically (see package fakellm): Chunks words of fakellm.Text,
// tool calls when the last user message says "call tool", JSON in JSON mode, answers cut
// at a stop sequence, and usage grown by the X-Fake-Cached-Tokens,
// X-Fake-Cache-Write-Tokens and X-Fake-Reasoning-Tokens knobs.
package providertest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// Harness describes a provider under test, run against an in-process fakellm.Server.
type Harness struct {
	// Name is the dialect name used for subtests, e.g. "anthropic".
	Name string
	// New builds the provider pointed at the fakellm server's origin (e.g.
	// "http://127.0.0.1:41234", no path); headers are extra upstream headers (fakellm
	// X-Fake-* knobs) to put in providers.Config.Headers.
	New func(t testing.TB, origin string, headers map[string]string) providers.Provider
	// Key is a credential the fake accepts (the suite starts fakellm with
	// Keys: []string{Key.Reveal()}).
	Key schema.Secret
	// Model is the upstream model name.
	Model string
	// Skip maps a case name to the reason the provider cannot support it.
	Skip map[string]string
}

// Case names, in the order Run runs them.
const (
	CaseText             = "text"
	CaseSystem           = "system"
	CaseTools            = "tools"
	CaseToolsStream      = "tools_stream"
	CaseImage            = "image"
	CaseJSONMode         = "json_mode"
	CaseStop             = "stop"
	CaseUsage            = "usage"
	CaseUsageStreamEqual = "usage_stream_equal"
	CaseErrors           = "errors"
	CaseCancel           = "cancel"
	CaseEmbeddings       = "embeddings"
	CaseGoOpenAIStream   = "go_openai_stream"
)

// chunks is the answer length of every case: fakellm.Text(chunks).
const chunks = 8

// suite is one case's view of the harness and its fake.
type suite struct {
	t      *testing.T
	h      Harness
	fake   *fakellm.Server
	origin string
}

var cases = []struct {
	name string
	run  func(*suite)
}{
	{CaseText, (*suite).text},
	{CaseSystem, (*suite).system},
	{CaseTools, (*suite).tools},
	{CaseToolsStream, (*suite).toolsStream},
	{CaseImage, (*suite).image},
	{CaseJSONMode, (*suite).jsonMode},
	{CaseStop, (*suite).stop},
	{CaseUsage, (*suite).usage},
	{CaseUsageStreamEqual, (*suite).usageStreamEqual},
	{CaseErrors, (*suite).errors},
	{CaseCancel, (*suite).cancel},
	{CaseEmbeddings, (*suite).embeddings},
	{CaseGoOpenAIStream, (*suite).goOpenAIStream},
}

// Run runs every conformance case against h, each as a subtest named h.Name/case.
// A case listed in h.Skip is skipped with its reason.
func Run(t *testing.T, h Harness) {
	if h.Name == "" || h.New == nil || h.Key.Empty() || h.Model == "" {
		t.Fatal("providertest: Harness needs Name, New, Key and Model")
	}
	for name := range h.Skip {
		if !knownCase(name) {
			t.Errorf("providertest: Skip names unknown case %q", name)
		}
	}
	t.Run(h.Name, func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if reason, ok := h.Skip[c.name]; ok {
					t.Skip(reason)
				}
				s := newSuite(t, h)
				c.run(s)
				s.checkNoKeyInURL()
			})
		}
	})
}

func knownCase(name string) bool {
	for _, c := range cases {
		if c.name == name {
			return true
		}
	}
	return false
}

func newSuite(t *testing.T, h Harness) *suite {
	fake := fakellm.New(fakellm.Options{Keys: []string{h.Key.Reveal()}, Models: []string{"*"}, Chunks: chunks})
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return &suite{t: t, h: h, fake: fake, origin: ts.URL}
}

// provider builds the provider under test with extra upstream headers.
func (s *suite) provider(headers map[string]string) providers.Provider {
	s.t.Helper()
	if headers == nil {
		headers = map[string]string{}
	}
	return s.h.New(s.t, s.origin, headers)
}

// last returns what the fake received most recently.
func (s *suite) last() fakellm.Recorded {
	s.t.Helper()
	rec, ok := s.fake.LastRequest()
	if !ok {
		s.t.Fatal("the fake upstream received no request")
	}
	return rec
}

// checkNoKeyInURL fails when any upstream request carried the key in its URL.
func (s *suite) checkNoKeyInURL() {
	key := s.h.Key.Reveal()
	for _, r := range s.fake.Requests() {
		if strings.Contains(r.Path, key) || strings.Contains(r.RawQuery, key) {
			s.t.Errorf("%s %s: the API key travelled in the URL", r.Method, r.Path)
		}
	}
}

// chatCall builds a chat call from an OpenAI request body.
func (s *suite) chatCall(body string, stream, includeUsage bool) *providers.Call {
	return &providers.Call{
		Request: &schema.Request{ID: "req-conformance", Endpoint: schema.EndpointChat, Model: "client-route",
			Stream: stream, IncludeUsage: includeUsage, Body: []byte(body)},
		Model: s.h.Model,
		Key:   s.h.Key,
	}
}

func (s *suite) ctx() context.Context { return s.t.Context() }
