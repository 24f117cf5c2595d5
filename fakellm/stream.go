package fakellm

import (
	"errors"
	"net/http"
)

// sseEvent is one server-sent event of a planned stream.
type sseEvent struct {
	name string // the event: line; empty for data-only dialects such as OpenAI
	data []byte
	// pause marks a generated chunk: ChunkDelay passes before it, except before the
	// first one, which TTFT covers.
	pause bool
}

// stream sends events as server-sent events after TTFT, with ChunkDelay between
// generated chunks and a flush after every event. In the midstream modes it stops after
// half the generated chunks: error_midstream then sends failure and ends the body,
// drop_midstream drops the connection.
func (c *call) stream(events []sseEvent, failure sseEvent) {
	if !c.sleep(c.k.ttft) {
		return
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	c.writeHeader(http.StatusOK)
	rc := http.NewResponseController(c.w)
	cut := -1
	if c.k.mode == ModeErrorMidstream || c.k.mode == ModeDropMidstream {
		cut = cutIndex(events)
	}
	paused := false
	for i, ev := range events {
		if i == cut {
			if c.k.mode == ModeDropMidstream {
				c.abort()
			}
			c.send(rc, failure)
			return
		}
		if ev.pause {
			if paused && !c.sleep(c.k.chunkDelay) {
				return
			}
			paused = true
		}
		if !c.send(rc, ev) {
			return
		}
	}
}

// cutIndex is the index of the event a midstream fault replaces: the generated chunk
// after the first half of them, or the second event when nothing is generated.
func cutIndex(events []sseEvent) int {
	total := 0
	for _, ev := range events {
		if ev.pause {
			total++
		}
	}
	if total == 0 {
		return min(1, len(events))
	}
	seen := 0
	for i, ev := range events {
		if ev.pause {
			if seen == total/2 {
				return i
			}
			seen++
		}
	}
	return len(events)
}

// send writes and flushes one event; it reports whether the client is still there.
func (c *call) send(rc *http.ResponseController, ev sseEvent) bool {
	buf := make([]byte, 0, len(ev.name)+len(ev.data)+16)
	if ev.name != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, ev.name...)
		buf = append(buf, '\n')
	}
	buf = append(buf, "data: "...)
	buf = append(buf, ev.data...)
	buf = append(buf, "\n\n"...)
	if _, err := c.w.Write(buf); err != nil {
		c.markCancelled()
		return false
	}
	if err := rc.Flush(); (err != nil && !errors.Is(err, http.ErrNotSupported)) || c.r.Context().Err() != nil {
		c.markCancelled()
		return false
	}
	return true
}
