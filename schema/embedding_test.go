package schema

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

// TestEmbeddingVector: floats render as a JSON array; base64 is little-endian float32,
// what the OpenAI SDKs decode.
func TestEmbeddingVector(t *testing.T) {
	v := []float32{1.5, -0.25, 3}
	raw, err := EmbeddingVector(v, false)
	if err != nil || string(raw) != "[1.5,-0.25,3]" {
		t.Fatalf("floats %s %v", raw, err)
	}
	raw, err = EmbeddingVector(v, true)
	var s string
	if err != nil || json.Unmarshal(raw, &s) != nil {
		t.Fatalf("base64 %s %v", raw, err)
	}
	b, _ := base64.StdEncoding.DecodeString(s)
	for i, f := range v {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])); got != f {
			t.Errorf("value %d decodes to %v, want %v", i, got, f)
		}
	}
	if _, err := EmbeddingVector([]float32{float32(math.NaN())}, false); err == nil {
		t.Error("NaN: no error")
	}
}

// TestEmbeddingTexts: strings and arrays of strings are texts; token arrays, empty
// inputs and empty strings are not.
func TestEmbeddingTexts(t *testing.T) {
	for in, want := range map[string]int{`"a"`: 1, `["a","b"]`: 2} {
		texts, single, err := (&EmbeddingRequest{Input: json.RawMessage(in)}).Texts()
		if err != nil || len(texts) != want || single != (want == 1 && in[0] == '"') {
			t.Errorf("%s: %v %v %v", in, texts, single, err)
		}
	}
	for _, in := range []string{`""`, `[]`, `["a",""]`, `[1,2]`, `[[1]]`, `null`, ``} {
		if _, _, err := (&EmbeddingRequest{Input: json.RawMessage(in)}).Texts(); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}
