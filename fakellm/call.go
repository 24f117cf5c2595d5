package fakellm

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// call is one request in flight and everything the fake decided about it.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	d     dialect
	start time.Time
	id    string // request id, sent as x-request-id
	key   string
	body  []byte
	k     knobs
	rate  rateState

	cancelled bool
}

// sleep waits d, or until the client goes away; it reports whether the client is still
// there.
func (c *call) sleep(d time.Duration) bool {
	ctx := c.r.Context()
	if d <= 0 {
		if ctx.Err() != nil {
			c.markCancelled()
			return false
		}
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		c.markCancelled()
		return false
	}
}

// markCancelled counts the request, once, as abandoned by its client.
func (c *call) markCancelled() {
	if !c.cancelled {
		c.cancelled = true
		c.s.stats.cancelled.Add(1)
	}
}

// generationTime is how long producing steps chunks takes: TTFT, then ChunkDelay between
// chunks.
func (c *call) generationTime(steps int) time.Duration {
	d := c.k.ttft
	if steps > 1 {
		d += time.Duration(steps-1) * c.k.chunkDelay
	}
	return d
}

// charge counts tokens against the key's token rate limit.
func (c *call) charge(tokens int) {
	c.s.limits.charge(c.key, tokens, time.Now())
}

// writeHeader sets the dialect's headers and writes the status.
func (c *call) writeHeader(status int) {
	c.d.setHeaders(c)
	c.w.WriteHeader(status)
}

// processingMillis is the time spent on the request so far, in whole milliseconds.
func (c *call) processingMillis() string {
	return strconv.FormatInt(time.Since(c.start).Milliseconds(), 10)
}

// fail answers e in the dialect's error shape.
func (c *call) fail(e *apiError) {
	if e.Status == http.StatusTooManyRequests {
		c.rate.exhaust(e.Type)
	}
	c.d.writeError(c, e)
}

// writeJSON answers status with v as JSON.
func (c *call) writeJSON(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.fail(errServer("fakellm: encoding response: " + err.Error()))
		return
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.writeHeader(status)
	_, _ = c.w.Write(b)
}

// respond answers v after wait (the time generating it takes), honouring the midstream
// modes: error_midstream answers the error status, drop_midstream sends half the body
// and drops the connection.
func (c *call) respond(v any, wait time.Duration) {
	if !c.sleep(wait) {
		return
	}
	switch c.k.mode {
	case ModeErrorMidstream:
		c.fail(errInjected(c.k.errorStatus))
		return
	case ModeDropMidstream:
		b, err := json.Marshal(v)
		if err != nil {
			c.fail(errServer("fakellm: encoding response: " + err.Error()))
			return
		}
		h := c.w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		c.writeHeader(http.StatusOK)
		_, _ = c.w.Write(b[:len(b)/2])
		c.abort()
	}
	c.writeJSON(http.StatusOK, v)
}

// abort flushes what was written and drops the connection without finishing the body.
func (c *call) abort() {
	_ = http.NewResponseController(c.w).Flush()
	panic(http.ErrAbortHandler)
}

// garbage answers 200 with a body that is not JSON, as a misbehaving proxy would.
func (c *call) garbage() {
	c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.writeHeader(http.StatusOK)
	_, _ = c.w.Write([]byte("<html>oops</html>\n"))
}

// hang never answers; it returns when the client goes away.
func (c *call) hang() {
	<-c.r.Context().Done()
	c.markCancelled()
}
