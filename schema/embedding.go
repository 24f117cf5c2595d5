package schema

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
)

// EmbeddingVector renders an embedding as OpenAI's EmbeddingData.Embedding: a JSON array
// of floats, or with b64 (encoding_format "base64", the OpenAI SDKs' default) a JSON
// string holding base64 of the vector as little-endian float32. It fails only for NaN or
// infinite values, which JSON cannot carry as numbers.
func EmbeddingVector(v []float32, b64 bool) (json.RawMessage, error) {
	if !b64 {
		return json.Marshal(v)
	}
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// Texts returns the request's input as strings: one for a string input (single is
// then true), else the items of an array of strings. Token-array inputs, an empty
// input and empty strings are errors that say so, for dialects that embed text only.
func (r *EmbeddingRequest) Texts() (texts []string, single bool, err error) {
	var one string
	if json.Unmarshal(r.Input, &one) == nil {
		if one == "" {
			return nil, false, errors.New("input must not be an empty string")
		}
		return []string{one}, true, nil
	}
	var many []string
	if err := json.Unmarshal(r.Input, &many); err != nil || len(many) == 0 {
		return nil, false, errors.New("input must be a string or a non-empty array of strings (token arrays are not supported)")
	}
	for _, s := range many {
		if s == "" {
			return nil, false, errors.New("input must not contain empty strings")
		}
	}
	return many, false, nil
}
