package bedrock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// encodeAWS encodes a message with the AWS SDK's encoder, an implementation independent
// of the decoder under test.
func encodeAWS(t testing.TB, headers eventstream.Headers, payload []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&buf, eventstream.Message{Headers: headers, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func eventHeaders(eventType string) eventstream.Headers {
	return eventstream.Headers{
		{Name: ":event-type", Value: eventstream.StringValue(eventType)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
		{Name: ":message-type", Value: eventstream.StringValue("event")},
	}
}

// TestFrameReaderDecodesAWSFrames decodes frames from the AWS encoder, with headers of
// every type (only the string ones matter to Bedrock; the others must be skipped
// exactly), an empty payload and several frames in a row.
func TestFrameReaderDecodesAWSFrames(t *testing.T) {
	all := append(eventHeaders("contentBlockDelta"),
		eventstream.Header{Name: "t", Value: eventstream.BoolValue(true)},
		eventstream.Header{Name: "f", Value: eventstream.BoolValue(false)},
		eventstream.Header{Name: "b", Value: eventstream.Int8Value(-3)},
		eventstream.Header{Name: "s", Value: eventstream.Int16Value(300)},
		eventstream.Header{Name: "i", Value: eventstream.Int32Value(70000)},
		eventstream.Header{Name: "l", Value: eventstream.Int64Value(1 << 40)},
		eventstream.Header{Name: "bytes", Value: eventstream.BytesValue("\x00\x01\x02")},
		eventstream.Header{Name: "ts", Value: eventstream.TimestampValue(time.Unix(1700000000, 0))},
		eventstream.Header{Name: "uuid", Value: eventstream.UUIDValue{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
	)
	var stream []byte
	stream = append(stream, encodeAWS(t, all, []byte(`{"contentBlockIndex":0,"delta":{"text":"Hi"}}`))...)
	stream = append(stream, encodeAWS(t, eventHeaders("contentBlockStop"), nil)...)
	stream = append(stream, encodeAWS(t, eventstream.Headers{
		{Name: ":exception-type", Value: eventstream.StringValue("throttlingException")},
		{Name: ":message-type", Value: eventstream.StringValue("exception")},
	}, []byte(`{"message":"slow down"}`))...)

	fr := newFrameReader(bytes.NewReader(stream))
	want := []frame{
		{messageType: "event", eventType: "contentBlockDelta", payload: []byte(`{"contentBlockIndex":0,"delta":{"text":"Hi"}}`)},
		{messageType: "event", eventType: "contentBlockStop", payload: []byte{}},
		{messageType: "exception", exceptionType: "throttlingException", payload: []byte(`{"message":"slow down"}`)},
	}
	for i, w := range want {
		f, err := fr.next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.messageType != w.messageType || f.eventType != w.eventType || f.exceptionType != w.exceptionType ||
			!bytes.Equal(f.payload, w.payload) {
			t.Errorf("frame %d = %+v (payload %q), want %+v", i, f, f.payload, w)
		}
	}
	if _, err := fr.next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

// rawFrame builds a frame by hand so that its fields can be wrong in chosen ways; the
// CRCs are right unless the test breaks them.
func rawFrame(total, headersLen uint32, rest []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, total)
	b = binary.BigEndian.AppendUint32(b, headersLen)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	b = append(b, rest...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func TestFrameReaderRejectsCorruptFrames(t *testing.T) {
	good := encodeAWS(t, eventHeaders("messageStart"), []byte(`{"role":"assistant"}`))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	header := func(h string) []byte { return rawFrame(uint32(16+len(h)), uint32(len(h)), []byte(h)) }
	tests := []struct {
		name  string
		input []byte
		want  error // errFrame or io.ErrUnexpectedEOF
	}{
		{"prelude CRC", flip(9), errFrame},
		{"total length changed", flip(3), errFrame},
		{"payload byte", flip(len(good) - 8), errFrame},
		{"message CRC", flip(len(good) - 1), errFrame},
		{"total below the overhead", rawFrame(15, 0, nil)[:16], errFrame},
		{"headers longer than the frame", rawFrame(20, 8, []byte("abcd")), errFrame},
		{"total above 16 MiB", rawFrame(maxFrameBytes+1, 0, nil), errFrame},
		{"headers above 128 KiB", rawFrame(maxHeadersBytes+32, maxHeadersBytes+1, nil), errFrame},
		{"empty header name", header("\x00"), errFrame},
		{"unknown header type", header("\x01a\x0a"), errFrame},
		{"string header past the block", header("\x01a\x07\x00\x09ab"), errFrame},
		{"header without a value type", header("\x02ab"), errFrame},
		{"cut in the prelude", good[:7], io.ErrUnexpectedEOF},
		{"cut in the payload", good[:len(good)-10], io.ErrUnexpectedEOF},
		{"length promises more than sent", rawFrame(1000, 0, []byte("x"))[:20], io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newFrameReader(bytes.NewReader(tt.input)).next()
			if !errors.Is(err, tt.want) {
				t.Errorf("next = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestFrameReaderBoundsMemory feeds a prelude that announces a 16 MiB frame but sends
// nothing after it: the reader fails on the missing bytes without reading further, and
// a length the AWS SDK decoder would underflow is refused before any read.
func TestFrameReaderBoundsMemory(t *testing.T) {
	big := rawFrame(maxFrameBytes, 0, nil)[:12]
	if _, err := newFrameReader(bytes.NewReader(big)).next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("announced 16 MiB: %v", err)
	}
	underflow := rawFrame(15, 0, nil)[:12]
	r := io.MultiReader(bytes.NewReader(underflow), strings.NewReader(strings.Repeat("x", 1<<20)))
	if _, err := newFrameReader(r).next(); !errors.Is(err, errFrame) {
		t.Errorf("total length 15: %v", err)
	}
}
