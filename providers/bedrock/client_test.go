package bedrock

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

func TestNewConfig(t *testing.T) {
	tests := []struct {
		cfg          providers.Config
		base, region string
		ok           bool
	}{
		{providers.Config{Region: "eu-west-3"}, "https://bedrock-runtime.eu-west-3.amazonaws.com", "eu-west-3", true},
		{providers.Config{BaseURL: "https://bedrock-runtime.ap-southeast-2.amazonaws.com/"}, "https://bedrock-runtime.ap-southeast-2.amazonaws.com", "ap-southeast-2", true},
		{providers.Config{BaseURL: "https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com"}, "https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", true},
		{providers.Config{BaseURL: "https://vpce-123.bedrock-runtime.vpce.amazonaws.com", Region: "us-east-1"}, "https://vpce-123.bedrock-runtime.vpce.amazonaws.com", "us-east-1", true},
		{providers.Config{}, "", "", false},
		{providers.Config{BaseURL: "http://127.0.0.1:9000"}, "", "", false},
		{providers.Config{Region: "Moon Base 1"}, "", "", false},
		{providers.Config{BaseURL: "ftp://x", Region: "us-east-1"}, "", "", false},
		{providers.Config{BaseURL: "https://x/?a=b", Region: "us-east-1"}, "", "", false},
	}
	for _, tt := range tests {
		tt.cfg.Name, tt.cfg.Type = "b", "bedrock"
		p, err := New(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("New(%+v) error %v, want ok %v", tt.cfg, err, tt.ok)
			continue
		}
		if tt.ok {
			if c := p.(*Client); c.base != tt.base || c.region != tt.region {
				t.Errorf("New(%+v) = %s in %s", tt.cfg, c.base, c.region)
			}
		}
	}
}

// startFake serves fakellm with keys and returns its origin.
func startFake(t *testing.T, keys ...string) (*fakellm.Server, string) {
	t.Helper()
	fake := fakellm.New(fakellm.Options{Keys: keys, Models: []string{"*"}, Chunks: 4})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv.URL
}

// TestSigV4AgainstFake signs requests for model ids whose ':' and '/' are escaped in
// the path (and double-escaped in the canonical request); fakellm verifies each
// signature with its own SigV4 implementation. A wrong secret or session token is a 401.
func TestSigV4AgainstFake(t *testing.T) {
	withToken := "ASIAEXAMPLETEMP:" + testSecretKey + ":IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="
	fake, origin := startFake(t, testIAMKey, withToken)
	p := newProvider(t, origin, map[string]string{"X-Operator": "team-a"})
	models := []string{testModel, "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"}
	body := `{"model":"r","messages":[{"role":"user","content":"héllo wörld"}]}`
	for _, m := range models {
		for _, key := range []string{testIAMKey, withToken} {
			c := chatCall(body, key, false)
			c.Model = m
			if _, err := p.Complete(context.Background(), c); err != nil {
				t.Fatalf("model %s: %v", m, err)
			}
			rec, _ := fake.LastRequest()
			if rec.Path != "/model/"+m+"/converse" || rec.Key != key {
				t.Errorf("the fake saw %s with another key", rec.Path)
			}
		}
	}
	for _, bad := range []string{testAccessKey + ":wrongSecret", withToken[:len(withToken)-4] + "AAA=", "AKIAUNKNOWN:" + testSecretKey} {
		_, err := p.Complete(context.Background(), chatCall(body, bad, false))
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != 401 || e.Code != "invalid_api_key" {
			t.Errorf("bad credential: %v, want a 401", err)
		}
		if e != nil && strings.Contains(e.Error(), "wrongSecret") {
			t.Error("the error reveals the secret")
		}
	}
}

func TestUnsupportedEndpoints(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1", nil)
	for _, ep := range []schema.Endpoint{schema.EndpointCompletions, schema.EndpointModels} {
		c := chatCall(`{}`, testAPIKey, false)
		c.Request.Endpoint = ep
		_, err := p.Complete(context.Background(), c)
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != 400 || e.Code != "unsupported_endpoint" || !strings.Contains(e.Message, "bedrock") {
			t.Errorf("%s: %v", ep, err)
		}
	}
	c := chatCall(`{}`, testAPIKey, false)
	c.Request.Endpoint = schema.EndpointEmbeddings
	if _, err := p.Stream(context.Background(), c); err == nil {
		t.Error("streamed embeddings were accepted")
	}
}

// TestEmbeddings covers both embedding families against the fake: Titan (one call per
// text, dimensions and normalize sent) and Cohere (one call per 96 texts).
func TestEmbeddings(t *testing.T) {
	fake, origin := startFake(t, testAPIKey)
	p := newProvider(t, origin, nil)
	embed := func(model, body string) (*schema.EmbeddingResponse, *schema.Response, error) {
		c := chatCall(body, testAPIKey, false)
		c.Request.Endpoint, c.Model = schema.EndpointEmbeddings, model
		resp, err := p.Complete(context.Background(), c)
		if err != nil {
			return nil, nil, err
		}
		var er schema.EmbeddingResponse
		if err := json.Unmarshal(resp.Body, &er); err != nil {
			t.Fatal(err)
		}
		return &er, resp, nil
	}
	before := fake.Count()
	er, resp, err := embed("amazon.titan-embed-text-v2:0", `{"model":"r","input":["one two","three"],"dimensions":256}`)
	if err != nil {
		t.Fatal(err)
	}
	var vec []float32
	_ = json.Unmarshal(er.Data[1].Embedding, &vec)
	if len(er.Data) != 2 || er.Data[1].Index != 1 || len(vec) != 256 || resp.Usage.PromptTokens != 3 || fake.Count()-before != 2 {
		t.Errorf("titan: %d embeddings of %d, usage %+v, %d calls", len(er.Data), len(vec), resp.Usage, fake.Count()-before)
	}
	rec, _ := fake.LastRequest()
	if string(rec.Body) != `{"inputText":"three","dimensions":256,"normalize":true}` {
		t.Errorf("titan body %s", rec.Body)
	}
	inputs := make([]string, 100)
	for i := range inputs {
		inputs[i] = "text number " + strings.Repeat("x", i+1)
	}
	in, _ := json.Marshal(map[string]any{"model": "r", "input": inputs, "encoding_format": "base64"})
	before = fake.Count()
	er, resp, err = embed("cohere.embed-multilingual-v3", string(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(er.Data) != 100 || er.Data[99].Index != 99 || resp.Usage.PromptTokens != 300 || fake.Count()-before != 2 {
		t.Errorf("cohere: %d embeddings, usage %+v, %d calls", len(er.Data), resp.Usage, fake.Count()-before)
	}
	for _, bad := range []struct{ model, body string }{
		{"amazon.titan-embed-text-v2:0", `{"model":"r","input":[[1,2,3]]}`},
		{"amazon.titan-embed-text-v2:0", `{"model":"r","input":"x","dimensions":300}`},
		{"amazon.titan-embed-text-v1", `{"model":"r","input":"x","dimensions":256}`},
		{"amazon.titan-embed-text-v2:0", `{"model":"r","input":["a",""]}`},
		{"amazon.titan-embed-image-v1", `{"model":"r","input":"x"}`},
	} {
		if _, _, err := embed(bad.model, bad.body); err == nil {
			t.Errorf("%s %s was accepted", bad.model, bad.body)
		}
	}
}
