package fakellm

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

const (
	defaultDimensions = 8
	maxDimensions     = 4096
	maxInputs         = 2048
)

// embeddingRequest is the part of an embeddings request the fake reads.
type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
}

type embeddingResponse struct {
	Object string          `json:"object"`
	Data   []embeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

type embeddingData struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

// encodeFloats returns base64 of v as little-endian float32, as OpenAI's base64 format.
func encodeFloats(v []float32) string {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func handleEmbeddings(c *call) {
	var req embeddingRequest
	if !decodeBody(c, &req) || !checkModel(c, req.Model) {
		return
	}
	if len(req.Input) == 0 || string(req.Input) == "null" {
		c.fail(errBadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter"))
		return
	}
	texts, counts, ok := inputs(req.Input)
	switch {
	case !ok || len(texts) > maxInputs:
		c.fail(errBadRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input", "invalid_value"))
		return
	case slices.Contains(texts, ""):
		c.fail(errBadRequest("'$.input' is invalid: inputs must not be empty strings.", "input", "invalid_value"))
		return
	case req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64":
		c.fail(errBadRequest(fmt.Sprintf("Invalid value for 'encoding_format': %q; expected 'float' or 'base64'.", req.EncodingFormat),
			"encoding_format", "invalid_value"))
		return
	}
	dims := defaultDimensions
	if req.Dimensions != nil {
		dims = *req.Dimensions
		if dims < 1 || dims > maxDimensions {
			c.fail(errBadRequest(fmt.Sprintf("Invalid value for 'dimensions': %d; expected 1..%d.", dims, maxDimensions),
				"dimensions", "invalid_value"))
			return
		}
	}
	resp := embeddingResponse{Object: "list", Model: req.Model, Data: make([]embeddingData, len(texts))}
	for i, text := range texts {
		v := embedding(req.Model, text, dims)
		resp.Data[i] = embeddingData{Object: "embedding", Index: i, Embedding: v}
		if req.EncodingFormat == "base64" {
			resp.Data[i].Embedding = encodeFloats(v)
		}
		resp.Usage.PromptTokens += counts[i]
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	c.charge(resp.Usage.TotalTokens)
	c.respond(resp, 0)
}
