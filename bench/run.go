package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stack is everything a run started.
type stack struct {
	// model is the run's model name, unique so that no counter in a shared Redis is
	// anyone else's; body the request bodies.
	model   string
	body    bodies
	targets []*target
	procs   []*proc
	rec     *recorder
	svc     *services
	notes   []string
	stopRec context.CancelFunc
}

// close stops whatever is still running, drops the PostgreSQL schema and deletes the
// run's Redis keys.
func (st *stack) close() {
	for _, p := range st.procs {
		p.kill()
	}
	if st.svc != nil {
		if err := st.svc.drop(); err != nil {
			logf("dropping the PostgreSQL schema: %v", err)
		}
		ids := []string{st.model}
		for _, t := range st.targets {
			ids = append(ids, t.ids...)
		}
		if err := st.svc.cleanRedis(ids); err != nil {
			logf("deleting the run's Redis keys: %v", err)
		}
	}
	if st.stopRec != nil {
		st.stopRec()
	}
}

// startStack starts the upstreams, the floors and the tollgates.
func startStack(ctx context.Context, dir string, bin binaries, s settings) (st *stack, err error) {
	st = &stack{model: "bench-" + randomHex(4)}
	st.body = newBodies(st.model, s)
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	upstreamKey := "sk-bench-" + randomHex(16)
	fake, fakeOrigin, err := startFakellm(dir, bin, upstreamKey)
	if err != nil {
		return st, err
	}
	st.procs = append(st.procs, fake)
	rctx, cancel := context.WithCancel(context.Background())
	st.stopRec = cancel
	rec, recOrigin, err := startRecorder(rctx, upstreamKey)
	if err != nil {
		return st, err
	}
	st.rec = rec
	floorKey := "floor-" + randomHex(16)
	fl, flOrigin, err := startFloor(dir, "floor", bin, fakeOrigin, floorKey, upstreamKey)
	if err != nil {
		return st, err
	}
	st.procs = append(st.procs, fl)
	flc, flcOrigin, err := startFloor(dir, "floor-check", bin, recOrigin, floorKey, upstreamKey)
	if err != nil {
		return st, err
	}
	st.procs = append(st.procs, flc)
	st.targets = []*target{
		{name: "direct", base: fakeOrigin, checkBase: recOrigin, key: upstreamKey, client: newClient()},
		{name: "floor", base: flOrigin, checkBase: flcOrigin, key: floorKey, proc: fl, client: newClient()},
	}
	return st, st.startTollgates(ctx, dir, bin, s, tollgateSpec{fake: fakeOrigin, check: recOrigin, model: st.model}, upstreamKey)
}

// startTollgates starts tollgate on SQLite, and on PostgreSQL and Redis when they are
// configured; base holds the upstreams and the model.
func (st *stack) startTollgates(ctx context.Context, dir string, bin binaries, s settings, base tollgateSpec, upstreamKey string) error {
	specs := []tollgateSpec{{name: "tollgate", db: "sqlite:" + filepath.Join(dir, "tollgate", "tollgate.db")}}
	svc, note := openServices(ctx)
	if svc != nil {
		st.svc = svc
		specs = append(specs, tollgateSpec{name: "tollgate-pg", db: svc.dbURL, redis: svc.redisURL})
	} else {
		st.notes = append(st.notes, note)
	}
	for _, spec := range specs {
		spec.fake, spec.check, spec.model = base.fake, base.check, base.model
		t, err := startTollgate(ctx, dir, bin, spec, upstreamKey, s.Profile)
		if err != nil {
			return err
		}
		st.procs = append(st.procs, t.proc)
		st.targets = append(st.targets, t)
	}
	return nil
}

// run does a whole bench run and returns its report.
func run(ctx context.Context, s settings) (*report, error) {
	started := time.Now()
	r := &report{Started: started.UTC().Truncate(time.Second), Machine: describeMachine(), Settings: s}
	dir, err := os.MkdirTemp("", "tollgate-bench-")
	if err != nil {
		return nil, err
	}
	if s.Keep {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	streams, hard, err := raiseFDLimit(s.OpenStreams)
	if err != nil {
		r.Notes = append(r.Notes, "could not raise the open-file limit: "+err.Error())
	}
	if streams < s.OpenStreams {
		r.Notes = append(r.Notes, fmt.Sprintf("open streams: the open-file hard limit is %d and a stream through a gateway "+
			"holds %d descriptors there, so %d streams fit of the %d asked", hard, fdsPerStream, streams, s.OpenStreams))
	}
	r.OpenStreams = openStreamsReport{Requested: s.OpenStreams, Streams: streams, FDLimit: hard,
		Hold: s.OpenHold.std().String(), Delay: s.OpenDelay.std().String(), Results: map[string]openStreams{}}
	logf("building cmd/tollgate and cmd/fakellm")
	bin, err := build(ctx, dir)
	if err != nil {
		return nil, err
	}
	st, err := startStack(ctx, dir, bin, s)
	if err != nil {
		return nil, err
	}
	defer st.close()
	r.Notes = append(r.Notes, st.notes...)
	for _, t := range st.targets {
		r.Targets = append(r.Targets, t.name)
	}
	if err := measure(ctx, r, st, s); err != nil {
		return nil, err
	}
	r.Spend = stopTollgates(ctx, st)
	r.Checks = evaluate(r)
	r.Seconds = round1(time.Since(started).Seconds())
	return r, ctx.Err()
}

// measure runs every scenario the settings ask for.
func measure(ctx context.Context, r *report, st *stack, s settings) error {
	ts := st.targets
	r.IdleRSSMB = rssOf(ts, "VmRSS")
	r.Profiles = map[string]string{}
	logf("warming up")
	for _, t := range ts {
		attack(ctx, t, 200, 0, s.Warmup.std(), st.body.chat, &samples{})
		streamSlice(ctx, t, 50, s.Warmup.std(), st.body.stream, &samples{})
	}
	r.Streaming = streaming{Chunks: s.Chunks, Rate: s.StreamRate, Concurrency: s.StreamConcurrency,
		ByteCheck: map[string]byteCheck{}}
	for _, t := range ts {
		r.Streaming.ByteCheck[t.name] = checkStream(ctx, t, st.rec, s.Chunks)
	}
	measureChat(ctx, r, st, s)
	measureStreams(ctx, r, st, s)
	r.PeakRSSMB = rssOf(ts, "VmHWM")
	if n := r.OpenStreams.Streams; n > 0 && s.wants("open-streams") {
		for _, t := range ts {
			logf("holding %d slow streams open through %s", n, t.name)
			var atPeak func()
			if t.pprof != "" {
				atPeak = func() { r.Profiles[t.name+"-open-streams-heap"] = heapProfile(ctx, t, s, "open-streams") }
			}
			r.OpenStreams.Results[t.name] = holdStreams(ctx, t, n, s.OpenRate, st.body.slow, s.OpenHold.std(),
				int64(r.IdleRSSMB[t.name]*1024), atPeak)
		}
	}
	if s.Profile {
		profile(ctx, st, s, r.Profiles)
	}
	return ctx.Err()
}

// measureChat runs the open-loop and capacity scenarios.
func measureChat(ctx context.Context, r *report, st *stack, s settings) {
	ts := st.targets
	for _, rate := range s.Rates {
		if !s.wants("open-loop") {
			break
		}
		logf("open loop at %d req/s", rate)
		res := interleave(ctx, ts, s.Rounds, func(t *target, sm *samples) {
			attack(ctx, t, rate, 0, s.Slice.std(), st.body.chat, sm)
		})
		r.OpenLoop = append(r.OpenLoop, openLoop{Rate: rate, Results: summarize(res, ts)})
	}
	r.Capacity = capacity{Concurrency: s.Concurrency}
	if s.wants("capacity") {
		logf("capacity at %d in flight", s.Concurrency)
		res := interleave(ctx, ts, s.Rounds, func(t *target, sm *samples) {
			attack(ctx, t, 0, s.Concurrency, s.Slice.std(), st.body.chat, sm)
		})
		r.Capacity.Results = summarize(res, ts)
	}
}

// measureStreams runs the time-to-first-token and streams/s scenarios.
func measureStreams(ctx context.Context, r *report, st *stack, s settings) {
	ts := st.targets
	if s.wants("ttft") {
		logf("streams: time to first token at %d streams/s", s.StreamRate)
		res := interleave(ctx, ts, s.Rounds, func(t *target, sm *samples) {
			streamSlice(ctx, t, s.StreamRate, s.Slice.std(), st.body.stream, sm)
		})
		r.Streaming.TTFT = summarize(res, ts)
	}
	if s.wants("streams") {
		logf("streams: throughput at %d in flight", s.StreamConcurrency)
		res := interleave(ctx, ts, s.Rounds, func(t *target, sm *samples) {
			attack(ctx, t, 0, s.StreamConcurrency, s.Slice.std(), st.body.stream, sm)
		})
		r.Streaming.Throughput = summarize(res, ts)
	}
}

// rssOf reads a memory figure of /proc/<pid>/status ("VmRSS", "VmHWM") of every
// gateway, in MB.
func rssOf(ts []*target, field string) map[string]float64 {
	out := map[string]float64{}
	for _, t := range ts {
		if t.gateway() {
			kb, _ := t.proc.memKB(field)
			out[t.name] = round1(float64(kb) / 1024)
		}
	}
	return out
}

// summarize turns every target's samples into figures, overheads against direct.
func summarize(res map[string]*samples, ts []*target) map[string]figures {
	out := map[string]figures{}
	for _, t := range ts {
		out[t.name] = figuresOf(res[t.name], res["direct"], t.gateway())
	}
	return out
}

// stopTollgates stops each tollgate with SIGTERM, as an orchestrator would, and counts
// the spend rows it wrote against the requests it answered.
func stopTollgates(ctx context.Context, st *stack) map[string]spendCheck {
	out := map[string]spendCheck{}
	for _, t := range st.targets {
		if !t.tollgate() {
			continue
		}
		c := spendCheck{Answered: t.answered.Load(), Unanswered: t.unanswered.Load()}
		if err := t.proc.terminate(90 * time.Second); err != nil {
			var exit interface{ ExitCode() int }
			if !errors.As(err, &exit) || exit.ExitCode() != 0 {
				c.Detail = "stopping: " + err.Error()
			}
		}
		rows, err := countSpend(ctx, t.dbURL)
		switch {
		case err != nil:
			c.Status, c.Detail = "error", err.Error()
		case rows == c.Answered:
			c.Status = "ok"
		case rows < c.Answered:
			c.Status = "lost"
		default:
			c.Status = "extra"
		}
		c.Rows = rows
		out[t.name] = c
	}
	return out
}
