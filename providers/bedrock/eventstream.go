package bedrock

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Limits of the AWS event-stream encoding: a message is at most 16 MiB and its
// headers at most 128 KiB. Anything larger is garbage, not a big answer.
const (
	maxFrameBytes   = 16 << 20
	maxHeadersBytes = 128 << 10
	preludeBytes    = 12 // total length, headers length, prelude CRC
	frameOverhead   = preludeBytes + 4
)

// errFrame is the cause of every malformed-frame error, for errors.Is.
var errFrame = errors.New("malformed event-stream frame")

// frame is one decoded event-stream message: the headers Bedrock uses and the payload.
// Its payload is valid until the next call to frameReader.next.
type frame struct {
	messageType   string // ":message-type": event, exception or error
	eventType     string // ":event-type" of an event
	exceptionType string // ":exception-type" of an exception
	errorCode     string // ":error-code" of an error
	errorMessage  string // ":error-message" of an error
	payload       []byte
}

// frameReader decodes the binary application/vnd.amazon.eventstream framing:
//
//	[total length u32][headers length u32][prelude CRC u32][headers][payload][message CRC u32]
//
// all big-endian, both CRCs CRC-32 (IEEE) — the prelude CRC over the first 8 bytes, the
// message CRC over everything before it. Lengths are checked before anything is
// allocated, so a corrupt prelude cannot make it read or buffer more than one
// 16 MiB frame. It is hand-written rather than taken from the AWS SDK's eventstream
// package because that decoder does not bound lengths: a total length smaller than the
// headers plus the 16 bytes of overhead underflows its payload length to nearly 4 GiB.
type frameReader struct {
	r       *bufio.Reader
	prelude [preludeBytes]byte // a field, so that reading into it does not allocate
	buf     []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 32<<10)}
}

// next returns the next frame, io.EOF at a clean end between frames, or an error that
// wraps io.ErrUnexpectedEOF (cut short) or errFrame (corrupt).
func (fr *frameReader) next() (frame, error) {
	prelude := fr.prelude[:]
	if n, err := io.ReadFull(fr.r, prelude); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return frame{}, io.EOF
		}
		return frame{}, cutShort(err)
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	headersLen := binary.BigEndian.Uint32(prelude[4:8])
	if crc32.ChecksumIEEE(prelude[:8]) != binary.BigEndian.Uint32(prelude[8:12]) {
		return frame{}, fmt.Errorf("%w: prelude CRC mismatch", errFrame)
	}
	if total < frameOverhead || total > maxFrameBytes || headersLen > maxHeadersBytes ||
		headersLen > total-frameOverhead {
		return frame{}, fmt.Errorf("%w: total length %d, headers length %d", errFrame, total, headersLen)
	}
	rest := int(total) - preludeBytes
	if cap(fr.buf) < rest {
		fr.buf = make([]byte, rest)
	}
	fr.buf = fr.buf[:rest]
	if _, err := io.ReadFull(fr.r, fr.buf); err != nil {
		return frame{}, cutShort(err)
	}
	body := fr.buf[:rest-4]
	crc := crc32.Update(crc32.ChecksumIEEE(prelude), crc32.IEEETable, body)
	if crc != binary.BigEndian.Uint32(fr.buf[rest-4:]) {
		return frame{}, fmt.Errorf("%w: message CRC mismatch", errFrame)
	}
	f := frame{payload: body[headersLen:]}
	if err := parseHeaders(body[:headersLen], &f); err != nil {
		return frame{}, err
	}
	return f, nil
}

func cutShort(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("event stream cut short: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// headerSizes are the fixed value sizes of the event-stream header types; -1 marks the
// variable-length types (6 byte array, 7 string) that carry a u16 length.
var headerSizes = [10]int{0, 0, 1, 2, 4, 8, -1, -1, 8, 16}

// parseHeaders reads the headers block into f, keeping the string headers Bedrock sends
// and skipping the values of the others.
func parseHeaders(b []byte, f *frame) error {
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 || len(b) < 1+n+1 {
			return fmt.Errorf("%w: bad header name", errFrame)
		}
		name := b[1 : 1+n]
		typ := int(b[1+n])
		b = b[2+n:]
		if typ >= len(headerSizes) {
			return fmt.Errorf("%w: unknown header type %d", errFrame, typ)
		}
		size := headerSizes[typ]
		if size < 0 {
			if len(b) < 2 {
				return fmt.Errorf("%w: bad header length", errFrame)
			}
			size = int(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) < size {
			return fmt.Errorf("%w: header value past the headers block", errFrame)
		}
		if typ == 7 {
			f.set(name, b[:size])
		}
		b = b[size:]
	}
	return nil
}

// set keeps one string header; the switches on string(...) do not allocate, and the
// values every frame repeats are interned.
func (f *frame) set(name, value []byte) {
	switch string(name) {
	case ":message-type":
		f.messageType = intern(value)
	case ":event-type":
		f.eventType = intern(value)
	case ":exception-type":
		f.exceptionType = string(value)
	case ":error-code":
		f.errorCode = string(value)
	case ":error-message":
		f.errorMessage = string(value)
	}
}

// intern returns the common header values without allocating.
func intern(v []byte) string {
	switch string(v) {
	case "event":
		return "event"
	case "contentBlockDelta":
		return "contentBlockDelta"
	case "contentBlockStart":
		return "contentBlockStart"
	case "contentBlockStop":
		return "contentBlockStop"
	case "messageStart":
		return "messageStart"
	case "messageStop":
		return "messageStop"
	case "metadata":
		return "metadata"
	}
	return string(v)
}
