package fakellm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"net/http"
	"strings"
)

// eventStreamType is the Content-Type of ConverseStream answers.
const eventStreamType = "application/vnd.amazon.eventstream"

// encodeFrame encodes one AWS event-stream message:
//
//	[total length u32][headers length u32][prelude CRC u32][headers][payload][message CRC u32]
//
// big-endian, CRC-32 (IEEE) over the first 8 bytes and over everything before the
// message CRC. Headers are strings (type 7): [name length u8][name][7][value length
// u16][value].
func encodeFrame(headers [][2]string, payload []byte) []byte {
	var h bytes.Buffer
	for _, kv := range headers {
		h.WriteByte(byte(len(kv[0])))
		h.WriteString(kv[0])
		h.WriteByte(7)
		_ = binary.Write(&h, binary.BigEndian, uint16(len(kv[1])))
		h.WriteString(kv[1])
	}
	total := 12 + h.Len() + len(payload) + 4
	out := make([]byte, 0, total)
	out = binary.BigEndian.AppendUint32(out, uint32(total))
	out = binary.BigEndian.AppendUint32(out, uint32(h.Len()))
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[:8]))
	out = append(out, h.Bytes()...)
	out = append(out, payload...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
}

// eventFrame is an event message; Bedrock pads every payload with a "p" member of
// varying length (to hide token lengths), which clients must ignore.
func eventFrame(eventType string, payload map[string]any) []byte {
	payload["p"] = strings.Repeat("abcdefghijklmnopqrstuvwxyz", 2)[:10+len(eventType)]
	b, _ := json.Marshal(payload)
	return encodeFrame([][2]string{{":event-type", eventType}, {":content-type", "application/json"},
		{":message-type", "event"}}, b)
}

// streamExceptions are the exception members of ConverseStreamOutput, by status.
var streamExceptions = map[int]string{
	http.StatusBadRequest: "validationException", http.StatusFailedDependency: "modelStreamErrorException",
	http.StatusTooManyRequests: "throttlingException", http.StatusServiceUnavailable: "serviceUnavailableException",
}

// converseException is the exception frame that error_midstream sends.
func converseException(status int) sseEvent {
	name, ok := streamExceptions[status]
	if !ok {
		name = "internalServerException"
	}
	e := errInjected(status)
	msg := e.Message
	if status == http.StatusTooManyRequests {
		msg = "Too many requests, please wait before trying again."
	}
	b, _ := json.Marshal(map[string]string{"message": msg})
	return sseEvent{data: encodeFrame([][2]string{{":exception-type", name}, {":content-type", "application/json"},
		{":message-type", "exception"}}, b)}
}

// converseEvents lays out a ConverseStream answer: messageStart, the content block
// (a tool use opens with contentBlockStart; text starts with its first delta), one
// delta per generated step, contentBlockStop, messageStop and metadata (left out in
// the no_usage mode).
func converseEvents(c *call, a *converseAnswer) []sseEvent {
	ev := func(pause bool, typ string, payload map[string]any) sseEvent {
		return sseEvent{data: eventFrame(typ, payload), pause: pause}
	}
	events := []sseEvent{ev(false, "messageStart", map[string]any{"role": "assistant"})}
	if a.tool != nil {
		start := map[string]any{"toolUse": map[string]any{"toolUseId": a.tool.id, "name": a.tool.name}}
		events = append(events, ev(false, "contentBlockStart", map[string]any{"contentBlockIndex": 0, "start": start}))
		for _, frag := range a.tool.fragments {
			delta := map[string]any{"toolUse": map[string]any{"input": frag}}
			events = append(events, ev(true, "contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": delta}))
		}
	} else {
		for _, p := range a.pieces {
			delta := map[string]any{"text": p}
			events = append(events, ev(true, "contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": delta}))
		}
	}
	events = append(events, ev(false, "contentBlockStop", map[string]any{"contentBlockIndex": 0}),
		ev(false, "messageStop", map[string]any{"stopReason": a.stop}))
	if c.k.mode != ModeNoUsage {
		metrics := map[string]any{"latencyMs": c.generationTime(a.steps()).Milliseconds()}
		events = append(events, ev(false, "metadata", map[string]any{"usage": a.usage, "metrics": metrics}))
	}
	return events
}

// frameWriter lets the shared SSE pacing (call.stream) send event-stream frames: each
// Write of "data: <frame>\n\n" writes the frame alone, and a text/event-stream
// Content-Type becomes application/vnd.amazon.eventstream.
type frameWriter struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the real writer to flush it.
func (w frameWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w frameWriter) WriteHeader(status int) {
	if strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
		w.Header().Set("Content-Type", eventStreamType)
		w.Header().Del("Cache-Control")
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w frameWriter) Write(b []byte) (int, error) {
	if w.Header().Get("Content-Type") != eventStreamType {
		return w.ResponseWriter.Write(b)
	}
	frame, ok := bytes.CutPrefix(b, []byte("data: "))
	frame, ok2 := bytes.CutSuffix(frame, []byte("\n\n"))
	if !ok || !ok2 {
		return w.ResponseWriter.Write(b)
	}
	if _, err := w.ResponseWriter.Write(frame); err != nil {
		return 0, err
	}
	return len(b), nil
}
