package providertest

import (
	"encoding/json"
	"strings"

	"github.com/tollgate-llm/tollgate/fakellm"
)

// pngBase64 is a 1x1 transparent PNG.
const pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="

// image: a data: URL image part reaches the upstream as image data with its media type,
// next to the text part.
func (s *suite) image() {
	parts := []any{
		map[string]any{"type": "text", "text": "What is in this image?"},
		map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64," + pngBase64}},
	}
	fields := func() map[string]any { return map[string]any{"messages": []any{userMsg(parts)}} }
	cr, _ := s.complete(fields(), nil)
	if content(cr) != fakellm.Text(chunks) {
		s.t.Errorf("answer %q", content(cr))
	}
	s.checkImageSent()
	st := s.stream(fields(), nil, false)
	if st.content != fakellm.Text(chunks) {
		s.t.Errorf("streamed answer %q", st.content)
	}
	s.checkImageSent()
}

func (s *suite) checkImageSent() {
	s.t.Helper()
	rec := s.last()
	s.sent(rec, "What is in this image?", "the text part")
	// The data travels as base64 in JSON; dialects strip the data: prefix (or keep it,
	// as OpenAI does), either way the payload itself must be there, and png named.
	s.sent(rec, pngBase64, "the image data")
	s.sent(rec, "png", "the image's media type")
}

const jsonPrompt = "Describe the weather in Paris"

// jsonMode: response_format json_object and json_schema reach the upstream, and the
// answer's content is JSON (matching the schema's properties for json_schema).
func (s *suite) jsonMode() {
	schemaDoc := map[string]any{"type": "object", "required": []string{"city", "celsius"},
		"properties": map[string]any{"city": map[string]any{"type": "string"}, "celsius": map[string]any{"type": "number"}}}
	formats := []struct {
		name   string
		format map[string]any
		keys   []string
	}{
		{"json_object", map[string]any{"type": "json_object"}, nil},
		{"json_schema", map[string]any{"type": "json_schema", "json_schema": map[string]any{
			"name": "weather_report", "strict": true, "schema": schemaDoc}}, []string{"city", "celsius"}},
	}
	for _, f := range formats {
		fields := func() map[string]any {
			return map[string]any{"messages": []any{userMsg(jsonPrompt)}, "response_format": f.format}
		}
		cr, _ := s.complete(fields(), nil)
		s.checkJSONAnswer(f.name, content(cr), cr.Choices[0].FinishReason, f.keys)
		if n := len(cr.Choices[0].Message.ToolCalls); n != 0 {
			s.t.Errorf("%s: the answer has %d tool calls; JSON mode must answer in content", f.name, n)
		}
		s.checkJSONSent(f.name, f.keys)
		st := s.stream(fields(), nil, true)
		s.checkJSONAnswer(f.name+" streamed", st.content, st.finish, f.keys)
		if len(st.toolCalls) != 0 {
			s.t.Errorf("%s streamed: tool-call deltas in JSON mode", f.name)
		}
		s.checkJSONSent(f.name+" streamed", f.keys)
	}
}

func (s *suite) checkJSONAnswer(what, text, finish string, keys []string) {
	s.t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		s.t.Errorf("%s: content %q is not a JSON object: %v", what, text, err)
		return
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			s.t.Errorf("%s: content %q lacks the schema's %q", what, text, k)
		}
	}
	if finish != "stop" {
		s.t.Errorf("%s: finish %q, want stop", what, finish)
	}
}

// checkJSONSent checks that the upstream was asked for JSON: the prompt does not say
// "json", so the word must come from the translated response format (a MIME type, a
// format type, a forced tool...), and a schema's properties must be there too.
func (s *suite) checkJSONSent(what string, keys []string) {
	s.t.Helper()
	rec := s.last()
	if !strings.Contains(strings.ToLower(string(rec.Body)), "json") {
		s.t.Errorf("%s: nothing in the upstream request asks for JSON: %.600s", what, rec.Body)
	}
	for _, k := range keys {
		s.sent(rec, k, what+" schema property")
	}
}

// stop: stop sequences reach the upstream under a stop key and the answer ends before
// the first one that the text contains, with finish_reason stop.
func (s *suite) stop() {
	// fakellm.Text(8) is "Hello from the fake model this is a": it contains "model".
	stops := []string{"never-said", "model"}
	want := fakellm.Text(chunks)[:strings.Index(fakellm.Text(chunks), "model")]
	fields := func() map[string]any {
		return map[string]any{"messages": []any{userMsg(userText)}, "stop": stops}
	}
	cr, _ := s.complete(fields(), nil)
	if got := content(cr); got != want || cr.Choices[0].FinishReason != "stop" {
		s.t.Errorf("answer %q finish %q, want %q stop", got, cr.Choices[0].FinishReason, want)
	}
	s.checkStopSent(stops)
	st := s.stream(fields(), nil, true)
	if st.content != want || st.finish != "stop" {
		s.t.Errorf("streamed answer %q finish %q, want %q stop", st.content, st.finish, want)
	}
	s.checkStopSent(stops)
	// A single string is a stop sequence too.
	single := map[string]any{"messages": []any{userMsg(userText)}, "stop": "model"}
	if cr, _ := s.complete(single, nil); content(cr) != want {
		s.t.Errorf("stop as a string: answer %q, want %q", content(cr), want)
	}
}

func (s *suite) checkStopSent(stops []string) {
	s.t.Helper()
	rec := s.last()
	for _, v := range stops {
		s.sentWhere(rec, v, "the stop sequence", func(p path) bool { return p.has("stop") })
	}
}
