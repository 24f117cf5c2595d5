// Package sse reads server-sent event streams (the WHATWG "text/event-stream" format) for
// the translating dialects whose providers frame streams with event: and data: lines:
// Anthropic, Gemini and Cohere. The OpenAI dialect keeps its own line reader, which
// relays data: payloads byte for byte.
//
// The Reader follows the spec where a provider could notice: lines end in LF or CRLF, a
// leading UTF-8 byte order mark is dropped, one space after the colon is dropped, lines
// starting with a colon are comments, several data: lines are joined with "\n", an event
// is dispatched at a blank line and only when it has data, and id: and retry: are
// ignored. It is stricter than the spec about garbage, so that an HTML error page or a
// binary body fails fast instead of yielding no events: a line whose field name is not a
// short token of letters, digits, '-' and '_' is ErrMalformed (unknown token fields are
// ignored, as the spec says). A line longer than the configured limit, or an event whose
// data grows past it, is ErrTooLong. At the end of the body, an event whose last line
// was complete is still dispatched (some servers omit the final blank line); a body that
// ends inside a line is io.ErrUnexpectedEOF. Bare CR line endings are not supported; no
// LLM provider sends them.
//
// Reading does not allocate in steady state: Event's slices point into buffers the
// Reader reuses, valid until the next call to Next.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxLine is the line and event-data limit used when NewReader gets zero: large
// enough for a tool call's arguments or an inline image echoed back in one line.
const DefaultMaxLine = 16 << 20

// bufferSize is the bufio buffer: most events fit in one read.
const bufferSize = 32 << 10

// maxFieldName bounds the name of a field the Reader ignores.
const maxFieldName = 32

var (
	// ErrTooLong means a line, or an event's joined data, exceeded the Reader's limit.
	ErrTooLong = errors.New("sse: line or event longer than the limit")
	// ErrMalformed means a line is not a server-sent event field or comment.
	ErrMalformed = errors.New("sse: malformed line")
)

// Event is one dispatched event. Its slices are valid until the next call to Next.
type Event struct {
	// Name is the event: field, empty when the event had none.
	Name []byte
	// Data is the event's data: lines joined with "\n".
	Data []byte
}

// Reader reads events from a stream.
type Reader struct {
	br      *bufio.Reader
	max     int
	name    []byte
	data    []byte
	hasData bool
	long    []byte // a line longer than the bufio buffer, assembled
	started bool
	err     error
}

// NewReader returns a Reader of r whose lines and events are at most maxLine bytes
// (DefaultMaxLine when maxLine <= 0).
func NewReader(r io.Reader, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &Reader{br: bufio.NewReaderSize(r, min(bufferSize, maxLine+2)), max: maxLine}
}

// Next returns the next event; io.EOF when the stream ended cleanly. Any other error
// (ErrTooLong, ErrMalformed, io.ErrUnexpectedEOF, or the underlying reader's) is
// returned again by every later call.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	r.name, r.data, r.hasData = r.name[:0], r.data[:0], false
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && r.hasData {
				// The body ended after a complete line but without the blank line.
				r.err = io.EOF
				return Event{Name: r.name, Data: r.data}, nil
			}
			r.err = err
			return Event{}, err
		}
		if len(line) == 0 {
			if r.hasData {
				return Event{Name: r.name, Data: r.data}, nil
			}
			r.name = r.name[:0]
			continue
		}
		if err := r.field(line); err != nil {
			r.err = err
			return Event{}, err
		}
	}
}

// field processes one non-blank line.
func (r *Reader) field(line []byte) error {
	if line[0] == ':' {
		return nil
	}
	name, value, found := bytes.Cut(line, []byte{':'})
	if found && len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	switch string(name) {
	case "data":
		if r.hasData {
			r.data = append(r.data, '\n')
		}
		if len(r.data)+len(value) > r.max {
			return ErrTooLong
		}
		r.data = append(r.data, value...)
		r.hasData = true
	case "event":
		r.name = append(r.name[:0], value...)
	default:
		if !isToken(name) {
			return ErrMalformed
		}
	}
	return nil
}

// isToken reports whether a field name could be a real, ignorable field (id, retry or
// an extension) rather than garbage.
func isToken(name []byte) bool {
	if len(name) == 0 || len(name) > maxFieldName {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// readLine returns the next line without its line ending. The slice is valid until the
// next call.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		line, err = r.readLongLine(line)
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if !r.started {
		r.started = true
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > r.max {
		return nil, ErrTooLong
	}
	return line, nil
}

func (r *Reader) readLongLine(first []byte) ([]byte, error) {
	r.long = append(r.long[:0], first...)
	for {
		if len(r.long) > r.max+2 {
			return nil, ErrTooLong
		}
		more, err := r.br.ReadSlice('\n')
		r.long = append(r.long, more...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return r.long, err
		}
	}
}
