package sse

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzSSEReader: any input reads to a clean end or one of the Reader's errors, without
// panicking, with no event larger than the input and at most one event per line.
func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\"}\n\n"))
	f.Add([]byte("data: a\r\ndata: b\r\n\r\n: comment\n\n"))
	f.Add([]byte("<html>oops</html>\n"))
	f.Add([]byte("\xef\xbb\xbfdata: x\n"))
	f.Add([]byte("data: {\"cut"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 256)
		lines := bytes.Count(in, []byte("\n")) + 1
		for n := 0; ; n++ {
			e, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, ErrTooLong) && !errors.Is(err, ErrMalformed) {
					t.Fatalf("unexpected error %v", err)
				}
				if _, again := r.Next(); !errors.Is(again, err) {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if n >= lines || len(e.Data) > len(in) || len(e.Data) > 256 || len(e.Name) > len(in) {
				t.Fatalf("event %d (%d bytes of data) from %d bytes of input", n, len(e.Data), len(in))
			}
		}
	})
}
