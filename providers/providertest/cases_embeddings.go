package providertest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

var embedInputs = []string{"the first text to embed", "a second, different text"}

// embeddings: a batch embeds in order, as floats and as base64 of little-endian
// float32 (the OpenAI SDKs' default), with usage; a single string embeds too.
func (s *suite) embeddings() {
	floats := s.embed(map[string]any{"input": embedInputs}, len(embedInputs))
	rec := s.last()
	for _, in := range embedInputs {
		s.sent(rec, in, "the embedding input")
	}
	s.sentModel(rec)
	vecs := make([][]float32, len(floats))
	for i, d := range floats {
		if err := json.Unmarshal(d.Embedding, &vecs[i]); err != nil || len(vecs[i]) == 0 {
			s.t.Fatalf("embedding %d is not an array of floats: %v: %.100s", i, err, d.Embedding)
		}
	}
	if len(vecs[0]) != len(vecs[1]) || equalVec(vecs[0], vecs[1]) {
		s.t.Errorf("the two embeddings have different lengths or are identical: %v %v", len(vecs[0]), len(vecs[1]))
	}
	b64 := s.embed(map[string]any{"input": embedInputs, "encoding_format": "base64"}, len(embedInputs))
	for i, d := range b64 {
		if got := decodeBase64Vec(s, d.Embedding); !equalVec(got, vecs[i]) {
			s.t.Errorf("base64 embedding %d decodes to %v, the float one is %v", i, got, vecs[i])
		}
	}
	single := s.embed(map[string]any{"input": embedInputs[0]}, 1)
	var one []float32
	if err := json.Unmarshal(single[0].Embedding, &one); err != nil || !equalVec(one, vecs[0]) {
		s.t.Errorf("a single-string input embeds to %v, in a batch to %v (%v)", one, vecs[0], err)
	}
}

// embed sends an embeddings request and checks the envelope; it returns the data.
func (s *suite) embed(fields map[string]any, n int) []schema.EmbeddingData {
	s.t.Helper()
	fields["model"] = "client-route"
	b, _ := json.Marshal(fields)
	call := &providers.Call{
		Request: &schema.Request{ID: "req-embed", Endpoint: schema.EndpointEmbeddings, Model: "client-route", Body: b},
		Model:   s.h.Model, Key: s.h.Key,
	}
	resp, err := s.provider(nil).Complete(s.ctx(), call)
	if err != nil {
		s.t.Fatalf("embeddings: %v", err)
	}
	var er schema.EmbeddingResponse
	if err := json.Unmarshal(resp.Body, &er); err != nil {
		s.t.Fatalf("not an OpenAI embeddings response: %v: %.300s", err, resp.Body)
	}
	if er.Object != "list" || len(er.Data) != n || er.Model == "" {
		s.t.Fatalf("envelope object %q model %q with %d embeddings, want list of %d", er.Object, er.Model, len(er.Data), n)
	}
	for i, d := range er.Data {
		if d.Index != i || d.Object != "embedding" {
			s.t.Errorf("embedding %d: index %d object %q", i, d.Index, d.Object)
		}
	}
	if er.Usage == nil || er.Usage.PromptTokens <= 0 || !resp.HasUsage || resp.Usage.PromptTokens != er.Usage.PromptTokens {
		s.t.Errorf("embedding usage %s, Response.Usage %+v", mustJSON(er.Usage), resp.Usage)
	}
	return er.Data
}

func decodeBase64Vec(s *suite, raw json.RawMessage) []float32 {
	s.t.Helper()
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		s.t.Fatalf("base64 embedding is not a string: %.100s", raw)
	}
	b, err := base64.StdEncoding.DecodeString(str)
	if err != nil || len(b)%4 != 0 {
		s.t.Fatalf("base64 embedding does not decode to float32s: %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func equalVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
