package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Request bodies. fakellm reads its knobs from the "fakellm" field, which a gateway
// forwards like any unknown field. seqMark is replaced by a number unique to the request.
const (
	seqMark = "{seq}"
	// chatBodyFmt takes the model.
	chatBodyFmt = `{"model":%q,"messages":[{"role":"user","content":"Hello there, how are you today? This is request ` +
		seqMark + `."}],"max_tokens":16}`
	// streamBodyFmt takes the model and the number of generated chunks.
	streamBodyFmt = `{"model":%q,"stream":true,"stream_options":{"include_usage":true},` +
		`"messages":[{"role":"user","content":"Tell me story number ` + seqMark + `."}],"fakellm":{"chunks":%d}}`
	// slowBodyFmt takes the model, the number of chunks and the pause between them in ms.
	slowBodyFmt = `{"model":%q,"stream":true,"messages":[{"role":"user","content":"Tell me long story number ` +
		seqMark + `."}],"fakellm":{"chunks":%d,"chunk_delay_ms":%d}}`
)

// slowChunks is how many chunks a slow stream with pauses of delay needs to last ten
// minutes, within fakellm's bounds.
func slowChunks(delay time.Duration) int {
	return min(max(int(10*time.Minute/max(delay, time.Millisecond)), 1), 10000)
}

// body makes request bodies that differ only in a number. Real prompts differ, so no
// cache anywhere (a token counter's, say) may answer a request it has seen before.
type body struct {
	pre, post string
	seq       *atomic.Uint64
}

func newBody(seq *atomic.Uint64, format string, args ...any) body {
	pre, post, _ := strings.Cut(fmt.Sprintf(format, args...), seqMark)
	return body{pre: pre, post: post, seq: seq}
}

// next returns a new body.
func (b body) next() []byte {
	out := make([]byte, 0, len(b.pre)+len(b.post)+20)
	out = append(out, b.pre...)
	out = strconv.AppendUint(out, b.seq.Add(1), 10)
	return append(out, b.post...)
}

// bodies are the request bodies of a run; every target gets the same ones.
type bodies struct {
	// chat is a short chat request; stream a streamed answer of settings.Chunks
	// chunks with usage; slow a stream with a chunk every settings.OpenDelay that
	// would last ten minutes (the bench closes it long before).
	chat, stream, slow body
}

func newBodies(model string, s settings) bodies {
	seq := new(atomic.Uint64)
	return bodies{
		chat:   newBody(seq, chatBodyFmt, model),
		stream: newBody(seq, streamBodyFmt, model, s.Chunks),
		slow:   newBody(seq, slowBodyFmt, model, slowChunks(s.OpenDelay.std()), s.OpenDelay.std().Milliseconds()),
	}
}

// interleave runs slice for every target, rounds times. The order rotates every round,
// so no target always runs after the same one, and every target sees the same machine
// conditions on average. It returns each target's samples, with the gateway's CPU time
// and the wall time of its slices.
func interleave(ctx context.Context, targets []*target, rounds int, slice func(t *target, s *samples)) map[string]*samples {
	out := map[string]*samples{}
	for _, t := range targets {
		out[t.name] = &samples{}
	}
	for r := range rounds {
		for i := range targets {
			if ctx.Err() != nil {
				return out
			}
			t := targets[(i+r)%len(targets)]
			s := out[t.name]
			cpu0, start := t.cpu(), time.Now()
			slice(t, s)
			s.wall += time.Since(start)
			s.cpu += t.cpu() - cpu0
		}
	}
	return out
}

// attack sends body to the target's chat endpoint with vegeta: open loop at rate per
// second, or, when rate is 0, closed loop with exactly workers requests in flight.
func attack(ctx context.Context, t *target, rate, workers int, d time.Duration, b body, s *samples) {
	opts := []func(*vegeta.Attacker){vegeta.Client(t.client)}
	if workers > 0 {
		opts = append(opts, vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)))
	}
	atk := vegeta.NewAttacker(opts...)
	url, header := t.base+"/v1/chat/completions", t.header()
	tr := func(tgt *vegeta.Target) error {
		*tgt = vegeta.Target{Method: "POST", URL: url, Body: b.next(), Header: header}
		return nil
	}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	for res := range atk.Attack(tr, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, d, t.name) {
		t.count(int(res.Code))
		s.addResult(res)
	}
}

// pace calls hit at the pacer's rate for d, the way vegeta's attacker paces its hits,
// or until n hits when n > 0.
func pace(ctx context.Context, p vegeta.Pacer, d time.Duration, n int, hit func()) {
	began := time.Now()
	for count := uint64(0); n <= 0 || count < uint64(n); count++ {
		elapsed := time.Since(began)
		if (d > 0 && elapsed >= d) || ctx.Err() != nil {
			return
		}
		wait, stop := p.Pace(elapsed, count)
		if stop {
			return
		}
		time.Sleep(wait)
		hit()
	}
}

// streamSlice opens streams at rate per second for d, each reading its answer to the
// end, and records time to first byte and total time.
func streamSlice(ctx context.Context, t *target, rate int, d time.Duration, b body, s *samples) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	pace(ctx, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, d, 0, func() {
		wg.Go(func() {
			r := doStream(ctx, t, t.base, b.next(), streamOpts{})
			mu.Lock()
			s.addStream(r)
			mu.Unlock()
		})
	})
	wg.Wait()
}

// streamOpts are the optional parts of doStream.
type streamOpts struct {
	keep    bool   // keep the body
	opened  func() // called at the first body byte
	readBuf int    // read buffer size; 0 means 4 KiB
}

// streamResult is what one stream request saw.
type streamResult struct {
	status      int
	ttft, total time.Duration
	body        []byte
	err         error
}

var doneEvent = []byte("data: [DONE]")

// doStream posts a stream request to origin and reads the answer to the end. A stream
// that does not end with data: [DONE] is an error.
func doStream(ctx context.Context, t *target, origin string, body []byte, o streamOpts) streamResult {
	req, _ := http.NewRequestWithContext(ctx, "POST", origin+"/v1/chat/completions", bytes.NewReader(body))
	req.Header = t.header()
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		t.count(0)
		return streamResult{err: err}
	}
	defer resp.Body.Close()
	t.count(resp.StatusCode)
	r := streamResult{status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		r.err = fmt.Errorf("status %d: %s", resp.StatusCode, msg)
		return r
	}
	buf := make([]byte, max(o.readBuf, 4096))
	var all bytes.Buffer
	var tail []byte
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && r.ttft == 0 {
			r.ttft = time.Since(start)
			if o.opened != nil {
				o.opened()
			}
		}
		if o.keep {
			all.Write(buf[:n])
		}
		tail = append(tail, buf[:n]...)
		tail = tail[max(0, len(tail)-32):]
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			return r
		}
	}
	r.total, r.body = time.Since(start), all.Bytes()
	if !bytes.HasSuffix(bytes.TrimRight(tail, "\n"), doneEvent) {
		r.err = errors.New("stream ended without data: [DONE]")
	}
	return r
}
