package openai

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// Byte patterns looked for in every chunk. A quoted key can only appear unescaped in
// JSON as a key or a whole string value, so a miss proves the member is absent; a hit
// is then confirmed by a structural lookup.
var (
	doneMarker = []byte("[DONE]")
	dataField  = []byte("data:")
	usageKey   = []byte(`"usage"`)
	groqKey    = []byte(`"x_groq"`)
	errorWord  = []byte(`"error"`)
)

// errLineTooLong is the cause when one SSE line exceeds maxLineBytes.
var errLineTooLong = errors.New("SSE line longer than 16 MiB")

func newStream(ctx context.Context, body io.ReadCloser, call *providers.Call) *stream {
	return &stream{
		ctx:          ctx,
		body:         body,
		r:            bufio.NewReaderSize(body, readBufferBytes),
		key:          call.Key,
		includeUsage: call.Request.IncludeUsage,
	}
}

// Next returns the next chunk's JSON, io.EOF after data: [DONE], or an error. Blank
// lines, SSE comments (OpenRouter's ": OPENROUTER PROCESSING", keep-alives) and
// event:, id: and retry: fields are skipped; each data: line is one chunk, since
// OpenAI-compatible upstreams never split a chunk over several data: lines.
//
// When the client did not ask for usage, the usage-only chunk (usage set, choices empty
// or absent) is dropped and `"usage":null` is cut from the others; otherwise chunks are
// returned byte for byte. Usage is captured either way. The slice is valid until the
// next call; in steady state Next does not allocate.
func (s *stream) Next() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	for {
		line, err := s.readLine()
		if err != nil {
			s.err = s.readError(err)
			return nil, s.err
		}
		payload, ok := dataPayload(line)
		if !ok {
			continue
		}
		if bytes.HasPrefix(payload, doneMarker) {
			s.err = io.EOF
			return nil, io.EOF
		}
		chunk, keep, err := s.relay(payload)
		if err != nil {
			s.err = err
			return nil, err
		}
		if keep {
			return chunk, nil
		}
	}
}

// Usage returns the last usage the upstream reported.
func (s *stream) Usage() (schema.Usage, bool) { return s.usage, s.hasUsage }

// Close releases the upstream response. Closing before the end aborts the upstream
// request; it is safe to call more than once and from another goroutine.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.body.Close() })
	return s.closeErr
}

// relay inspects one chunk: a mid-stream error ends the stream, usage is captured, and
// when the client did not ask for usage the chunk is edited or dropped. Usage that an
// upstream sends unasked on a content chunk (Mistral, Groq's x_groq, vLLM's continuous
// stats) is left in place: the client would have seen it without tollgate too.
func (s *stream) relay(payload []byte) (chunk []byte, keep bool, err error) {
	if bytes.Contains(payload, errorWord) {
		if e := embeddedError(payload, s.key); e != nil {
			return nil, false, e
		}
	}
	if s.drop != nil && s.drop(payload) {
		return nil, false, nil
	}
	if !bytes.Contains(payload, usageKey) {
		return payload, true, nil
	}
	doc := unsafeString(payload)
	u := gjson.Get(doc, "usage")
	switch {
	case u.IsObject():
		s.usage, s.hasUsage = parseUsage(u), true
	case bytes.Contains(payload, groqKey):
		if g := gjson.Get(doc, "x_groq.usage"); g.IsObject() {
			s.usage, s.hasUsage = parseUsage(g), true
		}
	}
	if s.includeUsage {
		return payload, true, nil
	}
	if u.IsObject() {
		if c := gjson.Get(doc, "choices"); !c.Exists() || isEmptyArray(c.Raw) {
			return nil, false, nil
		}
		return payload, true, nil
	}
	if u.Type == gjson.Null && u.Exists() {
		if from, to, ok := memberSpan(doc, "usage", u); ok {
			s.scratch = append(append(s.scratch[:0], payload[:from]...), payload[to:]...)
			return s.scratch, true, nil
		}
	}
	return payload, true, nil
}

// readLine returns the next line without its line ending. Lines that fit the reader's
// buffer are returned in place; longer ones are assembled in s.long. An unterminated
// last line is returned only if it is the [DONE] marker: anything else was cut short.
func (s *stream) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err == nil {
		return trimEOL(line), nil
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		return s.readLongLine(line)
	}
	return lastLine(line, err)
}

func (s *stream) readLongLine(first []byte) ([]byte, error) {
	s.long = append(s.long[:0], first...)
	for {
		line, err := s.r.ReadSlice('\n')
		if len(s.long)+len(line) > maxLineBytes {
			return nil, errLineTooLong
		}
		s.long = append(s.long, line...)
		switch {
		case err == nil:
			return trimEOL(s.long), nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return lastLine(s.long, err)
		}
	}
}

func lastLine(line []byte, err error) ([]byte, error) {
	if errors.Is(err, io.EOF) {
		if p, ok := dataPayload(trimEOL(line)); ok && bytes.Equal(bytes.TrimSpace(p), doneMarker) {
			return line, nil
		}
	}
	return nil, err
}

// readError maps a failure to read the next line.
func (s *stream) readError(err error) error {
	switch {
	case errors.Is(err, errLineTooLong):
		return apierr.Upstream("upstream sent an event larger than 16 MiB").WithCause(err)
	case s.ctx.Err() != nil:
		return contextError(s.ctx)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e := apierr.Upstream("upstream closed the stream early").WithCause(io.ErrUnexpectedEOF)
		e.Retryable = true
		return e
	}
	e := apierr.Upstream("the upstream stream failed").WithCause(safeCause(err, s.key))
	e.Retryable = true
	return e
}

// dataPayload returns the value of a data: field, with or without the space after the
// colon. Other lines (blank, comments, other fields) report false.
func dataPayload(line []byte) ([]byte, bool) {
	if !bytes.HasPrefix(line, dataField) {
		return nil, false
	}
	p := bytes.TrimRight(line[len(dataField):], "\r")
	if len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	return p, len(p) > 0
}

func trimEOL(line []byte) []byte {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
	}
	if n > 0 && line[n-1] == '\r' {
		n--
	}
	return line[:n]
}
