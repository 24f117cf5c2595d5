package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type ev struct{ name, data string }

// readAll reads every event and the final error.
func readAll(t testing.TB, r *Reader) ([]ev, error) {
	t.Helper()
	var out []ev
	for {
		e, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, ev{string(e.Name), string(e.Data)})
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    []ev
		wantErr error
	}{
		{"anthropic framing", "event: message_start\ndata: {\"a\":1}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n", 0,
			[]ev{{"message_start", `{"a":1}`}, {"ping", `{"type":"ping"}`}}, io.EOF},
		{"crlf", "event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", 0, []ev{{"x", "1"}, {"", "2"}}, io.EOF},
		{"comments and blank lines skipped", ": keep-alive\n\n\n: OPENROUTER PROCESSING\ndata: a\n\n", 0, []ev{{"", "a"}}, io.EOF},
		{"data lines joined", "data: a\ndata:b\ndata\ndata:  c\n\n", 0, []ev{{"", "a\nb\n\n c"}}, io.EOF},
		{"name without data is dropped", "event: lonely\n\ndata: x\n\n", 0, []ev{{"", "x"}}, io.EOF},
		{"id and retry ignored", "id: 7\nretry: 100\nevent: e\ndata: x\n\n", 0, []ev{{"e", "x"}}, io.EOF},
		{"byte order mark", "\xef\xbb\xbfdata: x\n\n", 0, []ev{{"", "x"}}, io.EOF},
		{"last blank line missing", "data: a\n\ndata: b\n", 0, []ev{{"", "a"}, {"", "b"}}, io.EOF},
		{"cut inside a line", "data: a\n\ndata: {\"tru", 0, []ev{{"", "a"}}, io.ErrUnexpectedEOF},
		{"empty body", "", 0, nil, io.EOF},
		{"html", "<html><body>Bad gateway</body></html>\n", 0, nil, ErrMalformed},
		{"json body", "{\"error\":{\"message\":\"x\"}}\n", 0, nil, ErrMalformed},
		{"unknown token field ignored", "x-custom: 1\ndata: a\n\n", 0, []ev{{"", "a"}}, io.EOF},
		{"line too long", "data: " + strings.Repeat("x", 100) + "\n\n", 64, nil, ErrTooLong},
		{"event too long", strings.Repeat("data: "+strings.Repeat("x", 40)+"\n", 3) + "\n", 64, nil, ErrTooLong},
		{"long line within limit", "data: " + strings.Repeat("y", 100000) + "\n\n", 0, []ev{{"", strings.Repeat("y", 100000)}}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, split := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tt.in)
				if split {
					src = iotest.OneByteReader(src)
				}
				got, err := readAll(t, NewReader(src, tt.max))
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("split %v: error %v, want %v", split, err, tt.wantErr)
				}
				if !equalEvents(got, tt.want) {
					t.Errorf("split %v: events %q, want %q", split, got, tt.want)
				}
			}
		})
	}
}

func equalEvents(a, b []ev) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReaderStickyError: after a failure every call returns the same error.
func TestReaderStickyError(t *testing.T) {
	r := NewReader(strings.NewReader("<html>\ndata: ok\n\n"), 0)
	for range 3 {
		if _, err := r.Next(); !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v, want ErrMalformed", err)
		}
	}
}

// TestReaderUnderlyingError: a read error is returned as it is, not as a clean end.
func TestReaderUnderlyingError(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)), 0)
	got, err := readAll(t, r)
	if !errors.Is(err, boom) || len(got) != 1 {
		t.Fatalf("events %q error %v, want one event then %v", got, err, boom)
	}
}

// encode writes events the way a server does, for round trips.
func encode(events []ev, crlf bool) []byte {
	nl := "\n"
	if crlf {
		nl = "\r\n"
	}
	var b bytes.Buffer
	for _, e := range events {
		if e.name != "" {
			b.WriteString("event: " + e.name + nl)
		}
		for _, line := range strings.Split(e.data, "\n") {
			b.WriteString("data: " + line + nl)
		}
		b.WriteString(nl)
	}
	return b.Bytes()
}

func TestReaderRoundTrip(t *testing.T) {
	events := []ev{{"message_start", `{"type":"message_start"}`}, {"", "multi\nline\n"}, {"e", ""}, {"", " leading space"}}
	for _, crlf := range []bool{false, true} {
		got, err := readAll(t, NewReader(bytes.NewReader(encode(events, crlf)), 0))
		if !errors.Is(err, io.EOF) || !equalEvents(got, events) {
			t.Errorf("crlf %v: %q %v, want %q", crlf, got, err, events)
		}
	}
}

// BenchmarkReader reads an Anthropic-like stream; steady state must not allocate.
func BenchmarkReader(b *testing.B) {
	one := []ev{{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`}}
	var stream []byte
	for range 1000 {
		stream = append(stream, encode(one, false)...)
	}
	src := bytes.NewReader(stream)
	r := NewReader(src, 0)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		src.Reset(stream)
		*r = Reader{br: r.br, max: r.max, name: r.name, data: r.data}
		r.br.Reset(src)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
