package bedrock

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/openai"
	"github.com/tollgate-llm/tollgate/schema"
)

// maxEmbeddingInputs is OpenAI's limit on inputs per request.
const maxEmbeddingInputs = 2048

// embedFamily is one embedding model family's InvokeModel body and answer.
type embedFamily interface {
	// batch is how many texts one call embeds.
	batch() int
	body(texts []string) ([]byte, error)
	// parse returns one vector per text and the input tokens counted.
	parse(raw []byte, h http.Header, n int) ([][]float64, int64, error)
}

// familyOf picks the family of model, checking the request's options against it.
func familyOf(model string, er *schema.EmbeddingRequest) (embedFamily, error) {
	switch er.EncodingFormat {
	case "", "float", "base64":
	default:
		return nil, apierr.InvalidValue("encoding_format", "encoding_format must be float or base64")
	}
	switch {
	case strings.Contains(model, "amazon.titan-embed-text-v2"):
		if er.Dimensions != nil && !titanDimensions[*er.Dimensions] {
			return nil, apierr.InvalidValue("dimensions", "Titan Text Embeddings v2 supports 256, 512 or 1024 dimensions")
		}
		return titan{v2: true, dimensions: er.Dimensions}, nil
	case strings.Contains(model, "amazon.titan-embed-text-v1"), strings.Contains(model, "cohere.embed-"):
		if er.Dimensions != nil {
			return nil, unsupported("dimensions", "this embeddings model has a fixed size; dimensions is not supported")
		}
		if strings.Contains(model, "cohere.embed-") {
			return cohere{}, nil
		}
		return titan{}, nil
	}
	return nil, apierr.New(apierr.KindCaller, http.StatusBadRequest, "invalid_request_error", "unsupported_model",
		fmt.Sprintf("the bedrock provider translates embeddings for Amazon Titan Text Embeddings and Cohere Embed models only, not %q", model)).
		WithParam("model")
}

// embed answers an embeddings request with as many InvokeModel calls as the model
// family needs, one after the other.
func (c *Client) embed(ctx context.Context, call *providers.Call) (*schema.Response, error) {
	var er schema.EmbeddingRequest
	if err := json.Unmarshal(call.Request.Body, &er); err != nil {
		return nil, apierr.InvalidJSON("the request body is not a valid embeddings request").WithCause(err)
	}
	texts, err := embeddingInputs(er.Input)
	if err != nil {
		return nil, err
	}
	fam, err := familyOf(call.Model, &er)
	if err != nil {
		return nil, err
	}
	out := schema.EmbeddingResponse{Object: "list", Model: call.Model, Data: make([]schema.EmbeddingData, 0, len(texts))}
	var tokens int64
	for start := 0; start < len(texts); start += fam.batch() {
		part := texts[start:min(start+fam.batch(), len(texts))]
		vecs, n, err := c.invokeEmbed(ctx, call, fam, part)
		if err != nil {
			return nil, err
		}
		for _, v := range vecs {
			emb, err := encodeEmbedding(v, er.EncodingFormat)
			if err != nil {
				return nil, apierr.Upstream("upstream returned embedding values out of range").WithCause(err)
			}
			out.Data = append(out.Data, schema.EmbeddingData{Object: "embedding", Index: len(out.Data), Embedding: emb})
		}
		tokens += n
	}
	out.Usage = &schema.UsageJSON{PromptTokens: tokens, TotalTokens: tokens}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, apierr.From(err)
	}
	return &schema.Response{Body: body, Usage: schema.Usage{PromptTokens: tokens, TotalTokens: tokens}, HasUsage: true}, nil
}

func (c *Client) invokeEmbed(ctx context.Context, call *providers.Call, fam embedFamily, texts []string) ([][]float64, int64, error) {
	body, err := fam.body(texts)
	if err != nil {
		return nil, 0, apierr.From(err)
	}
	resp, err := c.post(ctx, call, "invoke", body, "application/json")
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := openai.ReadBody(resp.Body, resp.ContentLength, maxBodyBytes)
	if err != nil {
		return nil, 0, readFailure(ctx, err, call.Key)
	}
	vecs, n, err := fam.parse(raw, resp.Header, len(texts))
	if err != nil {
		return nil, 0, apierr.Upstream("upstream returned a body that is not an embeddings answer").WithCause(err)
	}
	return vecs, n, nil
}

// embeddingInputs reads input: a string or an array of strings. Bedrock's embedding
// models take text, so token arrays are refused.
func embeddingInputs(raw json.RawMessage) ([]string, error) {
	var one string
	var many []string
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, apierr.MissingField("input")
	case json.Unmarshal(raw, &one) == nil:
		many = []string{one}
	case json.Unmarshal(raw, &many) == nil:
	default:
		return nil, unsupported("input", "Bedrock embeddings take text: input must be a string or an array of strings")
	}
	if len(many) == 0 || len(many) > maxEmbeddingInputs {
		return nil, apierr.InvalidValue("input", fmt.Sprintf("input must hold 1 to %d texts", maxEmbeddingInputs))
	}
	for _, s := range many {
		if s == "" {
			return nil, apierr.InvalidValue("input", "input must not contain empty strings")
		}
	}
	return many, nil
}

// titanDimensions are the output sizes Titan Text Embeddings v2 accepts.
var titanDimensions = map[int]bool{256: true, 512: true, 1024: true}

// titan is Amazon Titan Text Embeddings: one text per call; v2 also takes dimensions
// and normalize (always set, as OpenAI's embeddings are unit vectors).
type titan struct {
	v2         bool
	dimensions *int
}

func (titan) batch() int { return 1 }

func (t titan) body(texts []string) ([]byte, error) {
	req := struct {
		InputText  string `json:"inputText"`
		Dimensions *int   `json:"dimensions,omitempty"`
		Normalize  *bool  `json:"normalize,omitempty"`
	}{InputText: texts[0]}
	if t.v2 {
		normalize := true
		req.Dimensions, req.Normalize = t.dimensions, &normalize
	}
	return json.Marshal(req)
}

func (titan) parse(raw []byte, _ http.Header, _ int) ([][]float64, int64, error) {
	var r struct {
		Embedding           []float64 `json:"embedding"`
		InputTextTokenCount int64     `json:"inputTextTokenCount"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Embedding) == 0 {
		return nil, 0, fmt.Errorf("no embedding in the Titan answer")
	}
	return [][]float64{r.Embedding}, r.InputTextTokenCount, nil
}

// cohere is Cohere Embed on Bedrock: up to 96 texts per call. OpenAI's API has no
// input type, so texts are embedded as search_document, as LiteLLM does. Its answer
// holds no token count; InvokeModel's X-Amzn-Bedrock-Input-Token-Count header does.
type cohere struct{}

func (cohere) batch() int { return 96 }

func (cohere) body(texts []string) ([]byte, error) {
	return json.Marshal(map[string]any{"texts": texts, "input_type": "search_document", "embedding_types": []string{"float"}})
}

func (cohere) parse(raw []byte, h http.Header, n int) ([][]float64, int64, error) {
	var r struct {
		Embeddings json.RawMessage `json:"embeddings"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, 0, err
	}
	// embeddings is {"float": [...]} when embedding_types was sent, else the bare list.
	var vecs [][]float64
	if len(r.Embeddings) > 0 && r.Embeddings[0] == '{' {
		var byType struct {
			Float [][]float64 `json:"float"`
		}
		if err := json.Unmarshal(r.Embeddings, &byType); err != nil {
			return nil, 0, err
		}
		vecs = byType.Float
	} else if err := json.Unmarshal(r.Embeddings, &vecs); err != nil {
		return nil, 0, err
	}
	if len(vecs) != n {
		return nil, 0, fmt.Errorf("%d embeddings for %d texts", len(vecs), n)
	}
	tokens, _ := strconv.ParseInt(h.Get("X-Amzn-Bedrock-Input-Token-Count"), 10, 64)
	return vecs, max(tokens, 0), nil
}

// encodeEmbedding renders a vector as OpenAI does: a JSON array of floats, or base64 of
// little-endian float32 values.
// Values beyond float32's range are an error rather than an infinity.
func encodeEmbedding(v []float64, format string) (json.RawMessage, error) {
	f32 := make([]float32, len(v))
	for i, f := range v {
		f32[i] = float32(f)
		if math.IsInf(float64(f32[i]), 0) {
			return nil, fmt.Errorf("value %g overflows float32", f)
		}
	}
	if format == "base64" {
		b := make([]byte, 0, 4*len(v))
		for _, f := range f32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
		return json.Marshal(base64.StdEncoding.EncodeToString(b))
	}
	return json.Marshal(f32)
}
