package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// Formats of the lines.
const (
	FormatJSON = "json"
	FormatOCSF = "ocsf"
)

// Options configure an Exporter. Zero values take the defaults shown.
type Options struct {
	// Format is FormatJSON (the default) or FormatOCSF.
	Format string
	// Sinks are named ("stdout", "file", "webhook"); the names label the queue depth
	// metric and the logs.
	Sinks map[string]Sink
	// QueueSize bounds the lines waiting for each sink (10000).
	QueueSize int
	// BatchSize is the most lines per write (500); FlushInterval writes a partial
	// batch after this long (1s).
	BatchSize     int
	FlushInterval time.Duration
	// DrainTimeout bounds the last writes when Run stops (5s).
	DrainTimeout time.Duration
	// Version is tollgate's version, for OCSF's metadata.product.
	Version string
	Logger  *slog.Logger
}

// Exporter formats requests and audit events as lines and hands them to its sinks,
// off the request path: Request and Audit only queue; one goroutine encodes, and one
// per sink writes.
type Exporter struct {
	o      Options
	f      exporterFormat
	intake chan any // telemetry.Finished or audit.Entry
	pipes  []*pipe
	// dropped counts what a full intake turned away.
	dropped atomic.Int64
	warned  atomic.Int64
}

// pipe is one sink with its queue.
type pipe struct {
	name    string
	sink    Sink
	queue   chan []byte
	dropped atomic.Int64
	written atomic.Int64
	failed  atomic.Int64
	warned  atomic.Int64 // when a drop was last logged (Unix ns)
}

// New returns an exporter; start it with Run.
func New(o Options) (*Exporter, error) {
	switch o.Format {
	case "":
		o.Format = FormatJSON
	case FormatJSON, FormatOCSF:
	default:
		return nil, fmt.Errorf("export: format %q is not json or ocsf", o.Format)
	}
	if len(o.Sinks) == 0 {
		return nil, errors.New("export: no sink")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.QueueSize, 10000)
	def(&o.BatchSize, 500)
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	e := &Exporter{o: o, f: exporterFormat{version: o.Version}, intake: make(chan any, o.QueueSize)}
	for name, s := range o.Sinks {
		e.pipes = append(e.pipes, &pipe{name: name, sink: s, queue: make(chan []byte, o.QueueSize)})
	}
	return e, nil
}

// Request exports one finished request. It never blocks: when the intake is full the
// request is dropped and counted.
func (e *Exporter) Request(f telemetry.Finished) { e.offer(f) }

// Audit exports one audit event. It never blocks; audit.Log calls it after each
// append commits.
func (e *Exporter) Audit(en audit.Entry) { e.offer(en) }

func (e *Exporter) offer(v any) {
	select {
	case e.intake <- v:
	default:
		n := e.dropped.Add(1)
		if now, last := time.Now().UnixNano(), e.warned.Load(); now-last > int64(time.Minute) && e.warned.CompareAndSwap(last, now) {
			e.o.Logger.Warn("request log lines dropped: the export is not keeping up", "dropped_total", n)
		}
	}
}

// line encodes a queued request or audit event in the configured format.
func (e *Exporter) line(v any) ([]byte, error) {
	ocsf := e.o.Format == FormatOCSF
	switch x := v.(type) {
	case telemetry.Finished:
		if ocsf {
			return encode(e.f.ocsfRequest(x))
		}
		return encode(requestLine(x))
	case audit.Entry:
		if ocsf {
			return encode(e.f.ocsfAudit(x))
		}
		return encode(AuditLine{Event: EventAudit, Entry: x})
	}
	return nil, fmt.Errorf("export: cannot encode %T", v)
}

// fanOut offers a line to every sink; a full queue drops it for that sink.
func (e *Exporter) fanOut(line []byte) {
	for _, p := range e.pipes {
		select {
		case p.queue <- line:
		default:
			p.drop(e.o.Logger, 1)
		}
	}
}

// drop counts lost lines and logs it, at most once a minute per sink.
func (p *pipe) drop(log *slog.Logger, n int) {
	total := p.dropped.Add(int64(n))
	now := time.Now().UnixNano()
	if last := p.warned.Load(); now-last > int64(time.Minute) && p.warned.CompareAndSwap(last, now) {
		log.Warn("request log lines dropped: the sink is not keeping up", "sink", p.name, "dropped_total", total)
	}
}

// Depths returns the lines waiting per sink, and under "intake" what waits to be
// encoded.
func (e *Exporter) Depths() map[string]int {
	out := make(map[string]int, len(e.pipes)+1)
	out["intake"] = len(e.intake)
	for _, p := range e.pipes {
		out[p.name] = len(p.queue)
	}
	return out
}

// SinkStats counts what happened to a sink's lines. The entry "intake" counts what
// was dropped before encoding (Dropped) and waits to be encoded (Queued).
type SinkStats struct {
	Written, Dropped, Failed int64
	Queued                   int
}

// Stats returns each sink's counters.
func (e *Exporter) Stats() map[string]SinkStats {
	out := make(map[string]SinkStats, len(e.pipes)+1)
	out["intake"] = SinkStats{Dropped: e.dropped.Load(), Queued: len(e.intake)}
	for _, p := range e.pipes {
		out[p.name] = SinkStats{Written: p.written.Load(), Dropped: p.dropped.Load(),
			Failed: p.failed.Load(), Queued: len(p.queue)}
	}
	return out
}

// Run encodes and writes until ctx is done, then encodes what is still queued, writes
// it (within DrainTimeout) and closes the sinks.
func (e *Exporter) Run(ctx context.Context) error {
	pctx, stopPipes := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, p := range e.pipes {
		wg.Go(func() { e.run(pctx, p) })
	}
	e.encode(ctx)
	stopPipes()
	wg.Wait()
	var errs []error
	for _, p := range e.pipes {
		errs = append(errs, p.sink.Close())
	}
	return errors.Join(errs...)
}

// encode is the encoding goroutine: it turns queued requests and events into lines
// until ctx is done, and then the ones still queued.
func (e *Exporter) encode(ctx context.Context) {
	for {
		select {
		case v := <-e.intake:
			e.encodeOne(v)
		case <-ctx.Done():
			for {
				select {
				case v := <-e.intake:
					e.encodeOne(v)
				default:
					return
				}
			}
		}
	}
}

func (e *Exporter) encodeOne(v any) {
	defer func() {
		if r := recover(); r != nil {
			e.o.Logger.Error("encoding a request log line panicked", "panic", fmt.Sprint(r))
		}
	}()
	line, err := e.line(v)
	if err != nil {
		e.o.Logger.Error("encoding a request log line", "error", err)
		return
	}
	e.fanOut(line)
}

// run is one sink's goroutine. A panicking sink loses its batch, not the process.
func (e *Exporter) run(ctx context.Context, p *pipe) {
	batch := make([][]byte, 0, e.o.BatchSize)
	tick := time.NewTicker(e.o.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case l := <-p.queue:
			if batch = append(batch, l); len(batch) >= e.o.BatchSize {
				batch = e.write(ctx, p, batch)
			}
		case <-tick.C:
			batch = e.write(ctx, p, batch)
		case <-ctx.Done():
			e.drain(p, batch)
			return
		}
	}
}

// drain writes the batch and everything queued, until the queue is empty or the
// drain timeout passes.
func (e *Exporter) drain(p *pipe, batch [][]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), e.o.DrainTimeout)
	defer cancel()
	for {
		for len(batch) < e.o.BatchSize {
			select {
			case l := <-p.queue:
				batch = append(batch, l)
				continue
			default:
			}
			break
		}
		switch {
		case len(batch) == 0:
			return
		case ctx.Err() != nil:
			p.drop(e.o.Logger, len(batch)+len(p.queue))
			return
		}
		batch = e.write(ctx, p, batch)
	}
}

// write hands the batch to the sink and returns it emptied for reuse.
func (e *Exporter) write(ctx context.Context, p *pipe, batch [][]byte) [][]byte {
	if len(batch) == 0 {
		return batch
	}
	defer func() {
		if r := recover(); r != nil {
			p.failed.Add(int64(len(batch)))
			e.o.Logger.Error("request log sink panicked", "sink", p.name, "panic", fmt.Sprint(r))
		}
	}()
	if err := p.sink.Write(ctx, batch); err != nil {
		p.failed.Add(int64(len(batch)))
		e.o.Logger.Warn("request log sink failed", "sink", p.name, "lines", len(batch), "error", err)
	} else {
		p.written.Add(int64(len(batch)))
	}
	clear(batch)
	return batch[:0]
}
