package billing

import (
	"strings"
	"testing"
)

// TestStreamMeterMatchesWholeCount feeds more text than the meter holds, in small
// pieces, and checks it counts what counting the whole text at once would.
func TestStreamMeterMatchesWholeCount(t *testing.T) {
	var whole strings.Builder
	m := NewStreamMeter("gpt-4o")
	for i := range 6000 {
		piece := " word" + strings.Repeat("s", i%4)
		if i%97 == 0 {
			piece = "\nHeading: ünïcödé, 数字 " + piece
		}
		whole.WriteString(piece)
		m.AddText(piece)
	}
	if whole.Len() < 2*meterFlushBytes {
		t.Fatalf("test text too short: %d bytes", whole.Len())
	}
	if got, want := m.Tokens(), CountTokens("gpt-4o", whole.String()); got != want {
		t.Fatalf("meter counted %d tokens, the whole text has %d", got, want)
	}
}

func TestStreamMeterChunkShapes(t *testing.T) {
	m := NewStreamMeter("gpt-4o")
	m.AddChunk([]byte(`{"choices":[{"delta":{"role":"assistant","content":""}}]}`))
	m.AddChunk([]byte(`{"choices":[{"delta":{"content":"hello"}}]}`))
	m.AddChunk([]byte(`{"choices":[{"delta":{"reasoning_content":" hello"}}]}`))
	m.AddChunk([]byte(`{"choices":[{"delta":{"tool_calls":[{"function":{"name":"get","arguments":"{}"}}]}}]}`))
	m.AddChunk([]byte(`{"choices":[{"text":" hello"}]}`))
	m.AddChunk([]byte(`{"choices":[],"usage":{"prompt_tokens":3}}`))
	want := CountTokens("gpt-4o", "hello helloget{} hello") // The pieces, concatenated.
	if m.Tokens() != want || m.Chunks() != 6 {
		t.Fatalf("counted %d tokens in %d chunks, want %d in 6", m.Tokens(), m.Chunks(), want)
	}
}
