package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// jsonToolName is the tool that carries JSON-mode answers (see the package doc). Its
// name is unlikely to clash with a client's tool.
const jsonToolName = "tollgate_json_response"

// translation is a Converse request and what the answer's translation needs to know.
type translation struct {
	req converseRequest
	// jsonMode is set when the answer's jsonToolName call is the content.
	jsonMode bool
}

// toConverse translates an OpenAI chat request.
func toConverse(cr *schema.ChatRequest) (*translation, error) {
	if cr.N != nil && *cr.N > 1 {
		return nil, unsupported("n", "Bedrock Converse returns one choice; n above 1 is not supported")
	}
	t := &translation{}
	if err := t.messages(cr.Messages); err != nil {
		return nil, err
	}
	t.inference(cr)
	if err := t.tools(cr); err != nil {
		return nil, err
	}
	return t, nil
}

func unsupported(param, msg string) *apierr.Error {
	return apierr.New(apierr.KindCaller, http.StatusBadRequest, "invalid_request_error", "unsupported_value", msg).WithParam(param)
}

func (t *translation) inference(cr *schema.ChatRequest) {
	ic := inferenceConfig{Temperature: cr.Temperature, TopP: cr.TopP, StopSequences: cr.Stop}
	if n := cr.OutputCap(); n > 0 {
		ic.MaxTokens = &n
	}
	if ic.MaxTokens != nil || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		t.req.InferenceConfig = &ic
	}
}

// messages moves system and developer messages to the top-level system list, turns
// tool messages into user toolResult blocks, and merges consecutive messages of the
// same role, since Converse needs user and assistant turns to alternate and all the
// results of one turn's tool calls in one user message.
func (t *translation) messages(msgs []schema.Message) error {
	for i := range msgs {
		m := &msgs[i]
		var blocks []contentBlock
		var err error
		role := m.Role
		switch m.Role {
		case "system", "developer":
			if text := m.Text(); text != "" {
				t.req.System = append(t.req.System, systemBlock{Text: text})
			}
			continue
		case "user":
			blocks, err = userBlocks(m, i)
		case "assistant":
			blocks, err = assistantBlocks(m, i)
		case "tool":
			role, blocks = "user", []contentBlock{toolResultBlock(m)}
		default:
			return apierr.InvalidValue(fmt.Sprintf("messages[%d].role", i), fmt.Sprintf("unknown message role %q", m.Role))
		}
		if err != nil {
			return err
		}
		t.append(role, blocks)
	}
	if len(t.req.Messages) == 0 {
		return apierr.MissingField("messages")
	}
	return nil
}

func (t *translation) append(role string, blocks []contentBlock) {
	if len(blocks) == 0 {
		return
	}
	if n := len(t.req.Messages); n > 0 && t.req.Messages[n-1].Role == role {
		t.req.Messages[n-1].Content = append(t.req.Messages[n-1].Content, blocks...)
		return
	}
	t.req.Messages = append(t.req.Messages, message{Role: role, Content: blocks})
}

func userBlocks(m *schema.Message, i int) ([]contentBlock, error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, apierr.InvalidValue(fmt.Sprintf("messages[%d].content", i), "content must be a string or an array of parts")
	}
	var out []contentBlock
	for j, p := range parts {
		param := fmt.Sprintf("messages[%d].content[%d]", i, j)
		switch p.Type {
		case "text":
			if p.Text != "" {
				out = append(out, textBlock(p.Text))
			}
		case "image_url":
			img, err := imageOf(p.ImageURL, param)
			if err != nil {
				return nil, err
			}
			out = append(out, contentBlock{Image: img})
		default:
			return nil, unsupported(param, fmt.Sprintf("content parts of type %q are not supported by Bedrock Converse", p.Type))
		}
	}
	return out, nil
}

func textBlock(s string) contentBlock { return contentBlock{Text: &s} }

// imageFormats maps the media types Converse accepts to its format names.
var imageFormats = map[string]string{"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg",
	"image/gif": "gif", "image/webp": "webp"}

// imageOf decodes a data: URL image. Converse takes image bytes only (or S3 locations),
// and tollgate does not fetch URLs on a client's behalf, so an https URL is refused.
func imageOf(u *schema.ImageURL, param string) (*imageBlock, error) {
	if u == nil || u.URL == "" {
		return nil, apierr.MissingField(param + ".image_url.url")
	}
	rest, ok := strings.CutPrefix(u.URL, "data:")
	if !ok {
		return nil, unsupported(param+".image_url.url",
			"Bedrock needs image data inline: send the image as a base64 data: URL, not a link")
	}
	meta, data, ok := strings.Cut(rest, ",")
	media, isBase64 := strings.CutSuffix(meta, ";base64")
	format := imageFormats[strings.ToLower(media)]
	if !ok || !isBase64 || format == "" {
		return nil, unsupported(param+".image_url.url",
			"images must be base64 data: URLs of type image/png, image/jpeg, image/gif or image/webp")
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, apierr.InvalidValue(param+".image_url.url", "the image data is not valid base64")
	}
	return &imageBlock{Format: format, Source: imageSource{Bytes: raw}}, nil
}

func assistantBlocks(m *schema.Message, i int) ([]contentBlock, error) {
	var out []contentBlock
	if text := m.Text(); text != "" {
		out = append(out, textBlock(text))
	}
	for j, tc := range m.ToolCalls {
		input, err := toolInput(tc.Function.Arguments)
		if err != nil {
			return nil, apierr.InvalidValue(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments", i, j),
				"tool call arguments must be a JSON object")
		}
		out = append(out, contentBlock{ToolUse: &toolUse{ToolUseID: tc.ID, Name: tc.Function.Name, Input: input}})
	}
	return out, nil
}

// toolInput parses a call's arguments string into the JSON object Converse wants.
func toolInput(args string) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace([]byte(args))
	if len(trimmed) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, fmt.Errorf("arguments are not a JSON object")
	}
	return trimmed, nil
}

func toolResultBlock(m *schema.Message) contentBlock {
	text := m.Text()
	if text == "" {
		// Converse rejects blank text blocks; an empty result still needs content.
		text = "(empty)"
	}
	return contentBlock{ToolResult: &toolResult{ToolUseID: m.ToolCallID,
		Content: []toolResultContent{{Text: &text}}}}
}
