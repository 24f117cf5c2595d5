package fakellm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// InvokeModel answers carry the token counts in headers, whatever the model.
const (
	bedrockInputTokensHeader  = "X-Amzn-Bedrock-Input-Token-Count"
	bedrockOutputTokensHeader = "X-Amzn-Bedrock-Output-Token-Count"
)

// handleInvoke answers InvokeModel for the embedding models the fake knows: Amazon
// Titan Text Embeddings and Cohere Embed. Other models get a ValidationException, as a
// body in the wrong shape would.
func handleInvoke(c *call, model string) {
	switch {
	case strings.Contains(model, "titan-embed-text"):
		handleBedrockTitanEmbed(c, model)
	case strings.Contains(model, "cohere.embed"):
		handleBedrockCohereEmbed(c, model)
	default:
		c.fail(errValidation("The provided model doesn't support on-demand invocation through this fake."))
	}
}

// answerInvoke sends an InvokeModel answer with its token-count headers.
func answerInvoke(c *call, v any, inputTokens int) {
	c.charge(inputTokens)
	h := c.w.Header()
	h.Set(bedrockInputTokensHeader, strconv.Itoa(inputTokens))
	h.Set(bedrockOutputTokensHeader, "0")
	c.respond(v, 0)
}

// bedrockTitanRequest is an Amazon Titan Text Embeddings body; v1 takes inputText alone,
// v2 also dimensions (256, 512 or 1024, default 1024) and normalize.
type bedrockTitanRequest struct {
	InputText  *string `json:"inputText"`
	Dimensions *int    `json:"dimensions"`
	Normalize  *bool   `json:"normalize"`
}

func handleBedrockTitanEmbed(c *call, model string) {
	var req bedrockTitanRequest
	v2 := strings.Contains(model, "titan-embed-text-v2")
	switch {
	case json.Unmarshal(c.body, &req) != nil || req.InputText == nil:
		c.fail(errValidation("Malformed input request: #: required key [inputText] not found, please reformat your input and try again."))
		return
	case *req.InputText == "":
		c.fail(errValidation("Malformed input request: #/inputText: expected minLength: 1, actual: 0, please reformat your input and try again."))
		return
	case !v2 && (req.Dimensions != nil || req.Normalize != nil):
		c.fail(errValidation("Malformed input request: extraneous key [dimensions] is not permitted, please reformat your input and try again."))
		return
	}
	dims := 1536
	if v2 {
		dims = 1024
		if req.Dimensions != nil {
			dims = *req.Dimensions
		}
		if dims != 256 && dims != 512 && dims != 1024 {
			c.fail(errValidation(fmt.Sprintf("Malformed input request: #/dimensions: %d is not a valid enum value, please reformat your input and try again.", dims)))
			return
		}
	}
	v := embedding(model, *req.InputText, dims)
	tokens := countWords(*req.InputText)
	resp := map[string]any{"embedding": v, "inputTextTokenCount": tokens}
	if v2 {
		resp["embeddingsByType"] = map[string]any{"float": v}
	}
	answerInvoke(c, resp, tokens)
}

// bedrockCohereRequest is a Cohere Embed body on Bedrock: up to 96 texts and a required
// input_type.
type bedrockCohereRequest struct {
	Texts          []string `json:"texts"`
	InputType      string   `json:"input_type"`
	EmbeddingTypes []string `json:"embedding_types"`
}

// bedrockCohereDimensions is the size of Cohere Embed v3 vectors.
const bedrockCohereDimensions = 1024

func handleBedrockCohereEmbed(c *call, model string) {
	var req bedrockCohereRequest
	switch {
	case json.Unmarshal(c.body, &req) != nil || len(req.Texts) == 0:
		c.fail(errValidation("Malformed input request: #: required key [texts] not found, please reformat your input and try again."))
		return
	case len(req.Texts) > 96:
		c.fail(errValidation(fmt.Sprintf("Malformed input request: #/texts: expected maximum item count: 96, found: %d, please reformat your input and try again.", len(req.Texts))))
		return
	case req.InputType == "":
		c.fail(errValidation("Malformed input request: #: required key [input_type] not found, please reformat your input and try again."))
		return
	}
	vecs := make([][]float32, len(req.Texts))
	tokens := 0
	for i, t := range req.Texts {
		vecs[i] = embedding(model, t, bedrockCohereDimensions)
		tokens += countWords(t)
	}
	resp := map[string]any{"id": c.s.newID("", 36), "texts": req.Texts, "response_type": "embeddings_floats", "embeddings": vecs}
	if len(req.EmbeddingTypes) > 0 {
		resp["response_type"], resp["embeddings"] = "embeddings_by_type", map[string]any{"float": vecs}
	}
	answerInvoke(c, resp, tokens)
}
