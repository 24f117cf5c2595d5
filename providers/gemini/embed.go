package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// maxBatch is the most requests one batchEmbedContents call may carry.
const maxBatch = 100

// embed answers an OpenAI embeddings request: one embedContent call for a string
// input, batchEmbedContents calls of up to 100 texts for an array.
func (c *Client) embed(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	var req schema.EmbeddingRequest
	if err := json.Unmarshal(call.Request.Body, &req); err != nil {
		return nil, apierr.InvalidJSON("the request body is not a valid embeddings request").WithCause(err)
	}
	texts, single, err := req.Texts()
	if err != nil {
		return nil, apierr.InvalidValue("input", "the gemini provider cannot embed this input: "+err.Error())
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		return nil, apierr.InvalidValue("encoding_format", "encoding_format must be float or base64")
	}
	var vecs [][]float32
	var usage schema.Usage
	hasUsage := true
	for start := 0; start < len(texts); start += maxBatch {
		batch := texts[start:min(start+maxBatch, len(texts))]
		got, u, ok, err := c.embedBatch(ctx, call, batch, single, req.Dimensions)
		if err != nil {
			return nil, err
		}
		vecs = append(vecs, got...)
		usage.PromptTokens += u.PromptTokens
		hasUsage = hasUsage && ok
	}
	if !hasUsage {
		usage = schema.Usage{}
	}
	usage.TotalTokens = usage.PromptTokens
	return embeddingResponse(vecs, call.Model, req.EncodingFormat == "base64", usage, hasUsage)
}

// embedBatch embeds texts with one call and returns one vector per text.
func (c *Client) embedBatch(ctx context.Context, call *providers.Call, texts []string, single bool, dims *int) ([][]float32, schema.Usage, bool, error) {
	reqs := make([]embedRequest, len(texts))
	for i, t := range texts {
		reqs[i] = embedRequest{Content: content{Parts: []part{textPart(t)}}, OutputDimensionality: dims}
		if !single {
			reqs[i].Model = modelName(call.Model)
		}
	}
	method, payload := "batchEmbedContents", any(batchEmbedRequest{Requests: reqs})
	if single {
		method, payload = "embedContent", reqs[0]
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, schema.Usage{}, false, apierr.From(err)
	}
	raw, err := c.post(ctx, call, method, "", body)
	if err != nil {
		return nil, schema.Usage{}, false, err
	}
	var r embedResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, schema.Usage{}, false, apierr.Upstream("upstream returned a response that is not a Gemini embedding").WithCause(err)
	}
	list := r.Embeddings
	if r.Embedding != nil {
		list = []embedding{*r.Embedding}
	}
	if len(list) != len(texts) {
		return nil, schema.Usage{}, false, apierr.Upstream(fmt.Sprintf("upstream returned %d embeddings for %d inputs", len(list), len(texts)))
	}
	vecs := make([][]float32, len(list))
	for i := range list {
		vecs[i] = list[i].Values
	}
	if r.Usage == nil {
		return vecs, schema.Usage{}, false, nil
	}
	return vecs, schema.Usage{PromptTokens: r.Usage.PromptTokenCount}, true, nil
}

// modelName is the model's resource name, as batch requests name it.
func modelName(model string) string {
	if strings.Contains(model, "/") {
		return model
	}
	return "models/" + model
}

// embeddingResponse renders the OpenAI answer, each vector as floats or as base64 of
// little-endian float32.
func embeddingResponse(vecs [][]float32, model string, b64 bool, usage schema.Usage, hasUsage bool) (*schema.Response, error) {
	out := schema.EmbeddingResponse{Object: "list", Model: model, Data: make([]schema.EmbeddingData, len(vecs)),
		Usage: &schema.UsageJSON{PromptTokens: usage.PromptTokens, TotalTokens: usage.TotalTokens}}
	for i, v := range vecs {
		emb, err := schema.EmbeddingVector(v, b64)
		if err != nil {
			return nil, apierr.Upstream("upstream returned an embedding that is not finite").WithCause(err)
		}
		out.Data[i] = schema.EmbeddingData{Object: "embedding", Index: i, Embedding: emb}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, apierr.From(err)
	}
	return &schema.Response{Body: body, Usage: usage, HasUsage: hasUsage}, nil
}
