package providertest

import "github.com/tollgate-llm/tollgate/fakellm"

const userText = "Say hello to the conformance suite"

// text: plain text in and out, unstreamed and streamed.
func (s *suite) text() {
	headers := map[string]string{"X-Fake-Chunks": "8"}
	fields := map[string]any{"messages": []any{userMsg(userText)}, "max_tokens": 100}
	cr, _ := s.complete(fields, headers)
	if got := content(cr); got != fakellm.Text(chunks) || cr.Choices[0].FinishReason != "stop" {
		s.t.Errorf("answer %q finish %q, want %q stop", got, cr.Choices[0].FinishReason, fakellm.Text(chunks))
	}
	if u := cr.Usage; u.CompletionTokens != chunks || u.PromptTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		s.t.Errorf("usage %s, want %d completion tokens and a positive prompt", mustJSON(u), chunks)
	}
	s.checkTextRequest(headers)

	st := s.stream(fields, headers, false)
	if st.content != fakellm.Text(chunks) || st.finish != "stop" || len(st.toolCalls) != 0 {
		s.t.Errorf("streamed answer %q finish %q tools %d", st.content, st.finish, len(st.toolCalls))
	}
	if flat(cr.Usage) != st.final {
		s.t.Errorf("streamed usage %+v, unstreamed %+v", st.final, flat(cr.Usage))
	}
	s.checkTextRequest(headers)
}

// checkTextRequest checks the upstream side of a text request: the prompt, the model,
// the key (in a header the fake accepted) and the configured headers.
func (s *suite) checkTextRequest(headers map[string]string) {
	s.t.Helper()
	rec := s.last()
	s.sentWhere(rec, userText, "the user message", func(p path) bool { return !p.inRole("system", "assistant") })
	s.sentModel(rec)
	if rec.Key != s.h.Key.Reveal() {
		s.t.Error("the upstream did not receive the API key where the dialect carries it")
	}
	for k, v := range headers {
		if got := rec.Header.Get(k); got != v {
			s.t.Errorf("configured header %s = %q upstream, want %q", k, got, v)
		}
	}
}

const systemText = "You are a terse pirate"

// system: system and developer prompts go where the dialect keeps them.
func (s *suite) system() {
	for _, role := range []string{"system", "developer"} {
		msgs := []any{map[string]any{"role": role, "content": systemText}, userMsg(userText)}
		cr, _ := s.complete(map[string]any{"messages": msgs}, nil)
		if content(cr) != fakellm.Text(chunks) {
			s.t.Errorf("%s: answer %q", role, content(cr))
		}
		s.checkSystem(role)
		st := s.stream(map[string]any{"messages": msgs}, nil, true)
		if st.content != fakellm.Text(chunks) {
			s.t.Errorf("%s streamed: answer %q", role, st.content)
		}
		s.checkSystem(role)
	}
	// Content parts and several system messages are joined, none is lost.
	msgs := []any{
		map[string]any{"role": "system", "content": []any{map[string]any{"type": "text", "text": systemText}}},
		map[string]any{"role": "system", "content": "Answer in French"},
		userMsg(userText),
	}
	s.complete(map[string]any{"messages": msgs}, nil)
	s.checkSystem("system parts")
	s.sentWhere(s.last(), "Answer in French", "the second system message", isSystemPath)
}

func (s *suite) checkSystem(what string) {
	s.t.Helper()
	rec := s.last()
	s.sentWhere(rec, systemText, what+" prompt", isSystemPath)
	for _, p := range s.find(rec, systemText) {
		if p.inRole("user", "assistant") {
			s.t.Errorf("%s prompt sent as a user or assistant message at %s", what, p)
		}
	}
	s.sentWhere(rec, userText, "the user message", func(p path) bool { return !isSystemPath(p) })
}

// isSystemPath accepts a value under a key containing "system" (Anthropic's system,
// Gemini's systemInstruction, Bedrock's system) or in a message whose role is system or
// developer (OpenAI, Azure, Cohere).
func isSystemPath(p path) bool {
	return p.has("system") || p.inRole("system", "developer")
}
