package cohere

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// maxTexts is the most texts one /v2/embed call may carry.
const maxTexts = 96

// embed answers an OpenAI embeddings request with /v2/embed calls of up to 96 texts.
func (c *Client) embed(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	var req schema.EmbeddingRequest
	if err := json.Unmarshal(call.Request.Body, &req); err != nil {
		return nil, apierr.InvalidJSON("the request body is not a valid embeddings request").WithCause(err)
	}
	texts, _, err := req.Texts()
	if err != nil {
		return nil, apierr.InvalidValue("input", "the cohere provider cannot embed this input: "+err.Error())
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		return nil, apierr.InvalidValue("encoding_format", "encoding_format must be float or base64")
	}
	out := schema.EmbeddingResponse{Object: "list", Model: call.Model, Data: make([]schema.EmbeddingData, 0, len(texts))}
	var tokens int64
	for start := 0; start < len(texts); start += maxTexts {
		batch := texts[start:min(start+maxTexts, len(texts))]
		vecs, n, err := c.embedBatch(ctx, call, batch, req.Dimensions)
		if err != nil {
			return nil, err
		}
		tokens += n
		for _, v := range vecs {
			emb, err := schema.EmbeddingVector(v, req.EncodingFormat == "base64")
			if err != nil {
				return nil, apierr.Upstream("upstream returned an embedding that is not finite").WithCause(err)
			}
			out.Data = append(out.Data, schema.EmbeddingData{Object: "embedding", Index: len(out.Data), Embedding: emb})
		}
	}
	out.Usage = &schema.UsageJSON{PromptTokens: tokens, TotalTokens: tokens}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, apierr.From(err)
	}
	return &schema.Response{Body: body, Usage: schema.Usage{PromptTokens: tokens, TotalTokens: tokens}, HasUsage: true}, nil
}

// embedBatch embeds texts with one call, as documents for search (OpenAI has no
// input type; search_document suits storing and comparing texts).
func (c *Client) embedBatch(ctx context.Context, call *providers.Call, texts []string, dims *int) ([][]float32, int64, error) {
	body, err := json.Marshal(embedRequest{Model: call.Model, Texts: texts, InputType: "search_document",
		EmbeddingTypes: []string{"float"}, OutputDimension: dims})
	if err != nil {
		return nil, 0, apierr.From(err)
	}
	raw, err := c.post(ctx, call, "/v2/embed", body)
	if err != nil {
		return nil, 0, err
	}
	var r embedResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, 0, apierr.Upstream("upstream returned a response that is not a Cohere embedding").WithCause(err)
	}
	if len(r.Embeddings.Float) != len(texts) {
		return nil, 0, apierr.Upstream(fmt.Sprintf("upstream returned %d embeddings for %d inputs", len(r.Embeddings.Float), len(texts)))
	}
	var n int64
	if r.Meta != nil && r.Meta.BilledUnits != nil {
		n = count(r.Meta.BilledUnits.InputTokens)
	}
	return r.Embeddings.Float, n, nil
}
