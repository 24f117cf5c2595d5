package fakellm

import (
	"fmt"
	"strings"
)

// geminiEmbedRequest is an EmbedContentRequest, alone or as one item of a batch.
type geminiEmbedRequest struct {
	Model                string        `json:"model"`
	Content              geminiContent `json:"content"`
	TaskType             string        `json:"taskType"`
	Title                string        `json:"title"`
	OutputDimensionality *int          `json:"outputDimensionality"`
}

type geminiEmbedding struct {
	Values []float32 `json:"values"`
}

type geminiEmbedUsage struct {
	PromptTokenCount int `json:"promptTokenCount"`
	TotalTokenCount  int `json:"totalTokenCount"`
}

// embed checks one request and returns its vector and token count, or Google's 400.
func (r *geminiEmbedRequest) embed(model, at string) ([]float32, int, string) {
	if len(r.Content.Parts) == 0 {
		return nil, 0, "* " + at + ".content.parts: contents.parts must not be empty.\n"
	}
	if msg := validateContent(r.Content, at+".content"); msg != "" {
		return nil, 0, msg
	}
	dims := defaultDimensions
	if r.OutputDimensionality != nil {
		dims = *r.OutputDimensionality
		if dims < 1 || dims > maxDimensions {
			return nil, 0, fmt.Sprintf("* %s.output_dimensionality: must be between 1 and %d.\n", at, maxDimensions)
		}
	}
	text := r.Content.text()
	return embedding(model, text, dims), countWords(text), ""
}

// handleGeminiEmbed answers embedContent, or batchEmbedContents (at most 100
// requests, each naming the URL's model).
func handleGeminiEmbed(c *call, model string, batch bool) {
	reqs, ok := decodeEmbedRequests(c, batch)
	if !ok {
		return
	}
	var out []geminiEmbedding
	tokens := 0
	for i, r := range reqs {
		at := "EmbedContentRequest"
		if batch {
			at = fmt.Sprintf("BatchEmbedContentsRequest.requests[%d]", i)
			if strings.TrimPrefix(r.Model, "models/") != model {
				c.fail(googleBadRequest("* " + at + ".model: the model of every request must be the model of the URL.\n"))
				return
			}
		}
		v, n, msg := r.embed(model, at)
		if msg != "" {
			c.fail(googleBadRequest(msg))
			return
		}
		out, tokens = append(out, geminiEmbedding{Values: v}), tokens+n
	}
	c.charge(tokens)
	usage := geminiEmbedUsage{PromptTokenCount: tokens, TotalTokenCount: tokens}
	if batch {
		c.respond(struct {
			Embeddings    []geminiEmbedding `json:"embeddings"`
			UsageMetadata geminiEmbedUsage  `json:"usageMetadata"`
		}{out, usage}, 0)
		return
	}
	c.respond(struct {
		Embedding     geminiEmbedding  `json:"embedding"`
		UsageMetadata geminiEmbedUsage `json:"usageMetadata"`
	}{out[0], usage}, 0)
}

// decodeEmbedRequests reads one embedContent request, or the requests of a batch.
func decodeEmbedRequests(c *call, batch bool) ([]geminiEmbedRequest, bool) {
	if !batch {
		var one geminiEmbedRequest
		if !decodeGemini(c, &one) {
			return nil, false
		}
		return []geminiEmbedRequest{one}, true
	}
	var b struct {
		Requests []geminiEmbedRequest `json:"requests"`
	}
	if !decodeGemini(c, &b) {
		return nil, false
	}
	if len(b.Requests) == 0 || len(b.Requests) > 100 {
		c.fail(googleBadRequest("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch, and at least one.\n"))
		return nil, false
	}
	return b.Requests, true
}

// handleGeminiCount answers countTokens for contents or a whole generateContentRequest.
func handleGeminiCount(c *call) {
	var req struct {
		Contents               []geminiContent `json:"contents"`
		GenerateContentRequest *geminiRequest  `json:"generateContentRequest"`
	}
	if !decodeGemini(c, &req) {
		return
	}
	g := geminiRequest{Contents: req.Contents}
	if req.GenerateContentRequest != nil {
		g = *req.GenerateContentRequest
	}
	n := g.promptTokens()
	c.respond(struct {
		TotalTokens int `json:"totalTokens"`
	}{n}, 0)
}
