package gemini

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/schema"
)

// skipSignature is the thoughtSignature Google documents for function calls whose real
// signature is unknown (histories from other models, or clients that dropped
// extra_content); without one Gemini 3 answers 400.
const skipSignature = "skip_thought_signature_validator"

// converter turns OpenAI messages into Gemini contents.
type converter struct {
	sys      []part
	contents []content
	// names maps a tool_call_id to its function name: Gemini matches function
	// responses by name, OpenAI tool messages only carry the id.
	names map[string]string
}

// convertMessages returns the systemInstruction (nil when there is none) and the
// contents. System and developer messages, wherever they stand, are joined into the one
// systemInstruction; assistant turns become role "model"; tool results become user
// turns of functionResponse parts; adjacent turns of one role are merged.
func convertMessages(msgs []schema.Message) (*content, []content, error) {
	cv := converter{names: map[string]string{}}
	for i := range msgs {
		if err := cv.message(i, &msgs[i]); err != nil {
			return nil, nil, err
		}
	}
	if len(cv.contents) == 0 {
		return nil, nil, apierr.InvalidValue("messages",
			"messages must contain at least one user, assistant or tool message with content")
	}
	var sys *content
	if len(cv.sys) > 0 {
		sys = &content{Parts: cv.sys}
	}
	return sys, cv.contents, nil
}

func (cv *converter) message(i int, m *schema.Message) error {
	field := fmt.Sprintf("messages[%d]", i)
	switch m.Role {
	case "system", "developer":
		parts, err := textParts(field, m)
		cv.sys = append(cv.sys, parts...)
		return err
	case "user":
		parts, err := userParts(field, m)
		cv.add("user", parts)
		return err
	case "assistant":
		parts, err := cv.modelParts(field, m)
		cv.add("model", parts)
		return err
	case "tool", "function":
		p, err := cv.toolResult(field, m)
		cv.add("user", []part{p})
		return err
	}
	return apierr.InvalidValue(field+".role", fmt.Sprintf("message role %q is not supported", m.Role))
}

// add appends parts as a turn of role, merged into the previous turn when it has the
// same role. Empty turns are dropped: Gemini rejects contents without parts.
func (cv *converter) add(role string, parts []part) {
	if len(parts) == 0 {
		return
	}
	if n := len(cv.contents); n > 0 && cv.contents[n-1].Role == role {
		cv.contents[n-1].Parts = append(cv.contents[n-1].Parts, parts...)
		return
	}
	cv.contents = append(cv.contents, content{Role: role, Parts: parts})
}

func textPart(s string) part { return part{Text: &s} }

// textParts returns the non-empty text parts of a message that may only hold text.
// Gemini rejects empty text parts.
func textParts(field string, m *schema.Message) ([]part, error) {
	cps, err := m.Parts()
	if err != nil {
		return nil, apierr.InvalidValue(field+".content", "content must be a string or an array of content parts")
	}
	var out []part
	for j, cp := range cps {
		if cp.Type != "text" {
			return nil, apierr.InvalidValue(fmt.Sprintf("%s.content[%d].type", field, j),
				fmt.Sprintf("a %s message may only contain text parts, not %q", m.Role, cp.Type))
		}
		if cp.Text != "" {
			out = append(out, textPart(cp.Text))
		}
	}
	return out, nil
}

func userParts(field string, m *schema.Message) ([]part, error) {
	cps, err := m.Parts()
	if err != nil {
		return nil, apierr.InvalidValue(field+".content", "content must be a string or an array of content parts")
	}
	out := make([]part, 0, len(cps))
	for j, cp := range cps {
		f := fmt.Sprintf("%s.content[%d]", field, j)
		switch cp.Type {
		case "text":
			if cp.Text != "" {
				out = append(out, textPart(cp.Text))
			}
		case "image_url":
			if cp.ImageURL == nil {
				return nil, apierr.MissingField(f + ".image_url")
			}
			p, err := imagePart(f+".image_url.url", cp.ImageURL.URL)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		case "input_audio":
			if cp.InputAudio == nil || cp.InputAudio.Data == "" {
				return nil, apierr.MissingField(f + ".input_audio.data")
			}
			out = append(out, part{InlineData: &blob{MimeType: "audio/" + cp.InputAudio.Format, Data: cp.InputAudio.Data}})
		default:
			return nil, apierr.InvalidValue(f+".type", fmt.Sprintf("content part type %q is not supported by the gemini provider", cp.Type))
		}
	}
	return out, nil
}

// fileTypes are the image types Gemini accepts (and PDF), by file extension. The
// system's MIME tables are not used: they differ between machines.
var fileTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
	".heic": "image/heic", ".heif": "image/heif", ".pdf": "application/pdf",
}

// imagePart maps an image URL: a base64 data: URL becomes inlineData; an https URL (or
// a gs:// object) becomes fileData, which Gemini fetches itself, with the MIME type taken
// from the file extension. Files API URIs need no type.
func imagePart(field, raw string) (part, error) {
	if rest, ok := strings.CutPrefix(raw, "data:"); ok {
		meta, data, found := strings.Cut(rest, ",")
		mt, isB64 := strings.CutSuffix(meta, ";base64")
		if !found || !isB64 || mt == "" {
			return part{}, apierr.InvalidValue(field, "an image data: URL must be data:<mime type>;base64,<data>")
		}
		if _, err := base64.StdEncoding.DecodeString(data); err != nil {
			return part{}, apierr.InvalidValue(field, "the image data: URL does not hold valid base64")
		}
		return part{InlineData: &blob{MimeType: mt, Data: data}}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "gs") || u.Host == "" {
		return part{}, apierr.InvalidValue(field, "an image URL must be a data: URL or an https URL")
	}
	if u.Host == "generativelanguage.googleapis.com" && strings.Contains(u.Path, "/files/") {
		return part{FileData: &fileData{FileURI: raw}}, nil
	}
	mt, ok := fileTypes[strings.ToLower(path.Ext(u.Path))]
	if !ok {
		return part{}, apierr.InvalidValue(field, "the gemini provider cannot tell the type of the image at this URL "+
			"from its extension (.png, .jpg, .webp, .heic, .heif); send the image as a base64 data: URL instead")
	}
	return part{FileData: &fileData{MimeType: mt, FileURI: raw}}, nil
}

// modelParts maps an assistant message: its text, then one functionCall part per tool
// call. The thought signature returned with a call (extra_content.google) is sent back;
// a turn whose first call has none gets Google's documented skip value.
func (cv *converter) modelParts(field string, m *schema.Message) ([]part, error) {
	out, err := textParts(field, m)
	if err != nil {
		return nil, err
	}
	for k, tc := range m.ToolCalls {
		f := fmt.Sprintf("%s.tool_calls[%d].function", field, k)
		if tc.Function.Name == "" {
			return nil, apierr.MissingField(f + ".name")
		}
		args := strings.TrimSpace(tc.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		if !json.Valid([]byte(args)) || args[0] != '{' {
			return nil, apierr.InvalidValue(f+".arguments", "the tool call arguments are not a JSON object")
		}
		p := part{FunctionCall: &functionCall{Name: tc.Function.Name, Args: json.RawMessage(args)}}
		p.ThoughtSignature = signatureOf(tc.ExtraContent)
		if p.ThoughtSignature == "" && k == 0 {
			p.ThoughtSignature = skipSignature
		}
		out = append(out, p)
		if tc.ID != "" {
			cv.names[tc.ID] = tc.Function.Name
		}
	}
	return out, nil
}

// signatureOf reads extra_content.google.thought_signature.
func signatureOf(extra json.RawMessage) string {
	if len(extra) == 0 {
		return ""
	}
	var e struct {
		Google struct {
			ThoughtSignature string `json:"thought_signature"`
		} `json:"google"`
	}
	_ = json.Unmarshal(extra, &e) // anything else is not ours to read
	return e.Google.ThoughtSignature
}

// toolResult maps a tool message (or a deprecated function message) to a
// functionResponse part. A result that is a JSON object is the response itself;
// anything else is wrapped as {"output": text}, as Gemini documents.
func (cv *converter) toolResult(field string, m *schema.Message) (part, error) {
	name := m.Name
	if m.Role == "tool" {
		var ok bool
		if name, ok = cv.names[m.ToolCallID]; !ok {
			return part{}, apierr.InvalidValue(field+".tool_call_id",
				fmt.Sprintf("tool_call_id %q does not match a tool call of an earlier assistant message", m.ToolCallID))
		}
	}
	if name == "" {
		return part{}, apierr.MissingField(field + ".name")
	}
	text, err := resultText(field, m)
	if err != nil {
		return part{}, err
	}
	resp := json.RawMessage(text)
	if t := strings.TrimSpace(text); t == "" || t[0] != '{' || !json.Valid([]byte(t)) {
		resp, _ = json.Marshal(map[string]string{"output": text}) // a map of strings always marshals
	}
	return part{FunctionResponse: &functionResponse{Name: name, Response: resp}}, nil
}

func resultText(field string, m *schema.Message) (string, error) {
	cps, err := m.Parts()
	if err != nil {
		return "", apierr.InvalidValue(field+".content", "content must be a string or an array of text parts")
	}
	var b strings.Builder
	for _, cp := range cps {
		b.WriteString(cp.Text)
	}
	return b.String(), nil
}
