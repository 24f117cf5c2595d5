package main

import (
	"cmp"
	"fmt"
	"strings"
)

// labels are the table's column headers.
var labels = map[string]string{
	"direct": "direct", "floor": "floor", "tollgate": "tollgate (SQLite)", "tollgate-pg": "tollgate (PG+Redis)",
}

// row is one line of the table: a figure per target, and optionally the check it is
// judged by.
type row struct {
	figure string
	cells  map[string]string
	check  string // a check key, or ""
}

// markdown renders the report as one markdown table: a column per target, then the
// target of the issue and a verdict per tollgate.
func markdown(r *report) string {
	var b strings.Builder
	var tollgates []string
	head := []string{"figure"}
	for _, t := range r.Targets {
		head = append(head, labels[t])
		if isTollgate(t) {
			tollgates = append(tollgates, t)
		}
	}
	head = append(head, "target")
	for _, t := range tollgates {
		head = append(head, "verdict "+strings.TrimPrefix(labels[t], "tollgate "))
	}
	line := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, rw := range rows(r) {
		cells := []string{rw.figure}
		for _, t := range r.Targets {
			cells = append(cells, cmp.Or(rw.cells[t], "—"))
		}
		name, verdicts := verdicts(r, rw.check, tollgates)
		cells = append(cells, cmp.Or(name, ""))
		line(append(cells, verdicts...))
	}
	return b.String()
}

// verdicts returns the check's wording and PASS/MISS for each tollgate.
func verdicts(r *report, key string, tollgates []string) (string, []string) {
	out := make([]string, len(tollgates))
	name := ""
	for i, t := range tollgates {
		for _, c := range r.Checks {
			if key != "" && c.Key == key && c.Target == t {
				name, out[i] = c.Name, "MISS"
				if c.Pass {
					out[i] = "PASS"
				}
			}
		}
	}
	return name, out
}

// rows lays out the table.
func rows(r *report) []row {
	var out []row
	for i, o := range r.OpenLoop {
		keys := [3]string{}
		if i == 0 {
			keys = [3]string{"low_p50", "low_p99", ""}
		}
		if i == len(r.OpenLoop)-1 && i > 0 {
			keys = [3]string{"", "high_p99", ""}
		}
		out = append(out, latencyRows(fmt.Sprintf("%d req/s", o.Rate), o.Results, keys)...)
	}
	if n := len(r.OpenLoop); n > 0 {
		high := r.OpenLoop[n-1]
		out = append(out, row{figure: fmt.Sprintf("CPU µs per request at %d req/s", high.Rate), check: "cpu",
			cells: each(high.Results, func(f figures) string {
				if f.CPUPerRequest == 0 {
					return "" // direct: there is no gateway process
				}
				return num(f.CPUPerRequest, 1)
			})})
	}
	out = append(out, row{figure: fmt.Sprintf("capacity, req/s at %d in flight", r.Capacity.Concurrency), check: "capacity",
		cells: each(r.Capacity.Results, func(f figures) string { return num(f.RPS, 0) })})
	out = append(out, row{figure: "RSS MB once started, before any load",
		cells: each(r.IdleRSSMB, func(v float64) string { return num(v, 1) })})
	out = append(out, row{figure: "peak RSS MB (VmHWM) after the load", check: "rss",
		cells: each(r.PeakRSSMB, func(v float64) string { return num(v, 1) })})
	out = append(out, streamRows(r)...)
	o := r.OpenStreams
	out = append(out, row{figure: fmt.Sprintf("streams held open at once (of %d)", o.Streams),
		cells: each(o.Results, func(s openStreams) string { return fmt.Sprint(s.Held) })})
	out = append(out, row{figure: fmt.Sprintf("RSS MB with %d streams open (KB per stream)", o.Streams), check: "open_streams",
		cells: each(o.Results, func(s openStreams) string {
			if s.PeakMB == 0 {
				return ""
			}
			return fmt.Sprintf("%s (%s)", num(s.PeakMB, 1), num(s.KBPerStream, 1))
		})})
	out = append(out, row{figure: "spend rows / requests answered", check: "spend",
		cells: each(r.Spend, func(s spendCheck) string { return fmt.Sprintf("%d / %d", s.Rows, s.Answered) })})
	out = append(out, row{figure: "failed requests, all scenarios", cells: failures(r)})
	return out
}

// latencyRows are the p50, p99 and max rows of one scenario, with overheads.
func latencyRows(what string, res map[string]figures, keys [3]string) []row {
	pick := []func(d dist) float64{func(d dist) float64 { return d.P50 }, func(d dist) float64 { return d.P99 },
		func(d dist) float64 { return d.Max }}
	var out []row
	for i, name := range []string{"p50", "p99", "max"} {
		out = append(out, row{figure: what + " " + name + " ms (overhead)", check: keys[i],
			cells: each(res, func(f figures) string { return withOverhead(pick[i](f.Latency), f.Overhead, pick[i]) })})
	}
	return out
}

func streamRows(r *report) []row {
	s := r.Streaming
	ttft := func(pick func(d dist) float64) func(f figures) string {
		return func(f figures) string {
			if f.TTFT == nil {
				return ""
			}
			return withOverhead(pick(*f.TTFT), f.TTFTOverhead, pick)
		}
	}
	return []row{
		{figure: fmt.Sprintf("time to first token p50 ms (overhead), %d streams/s", s.Rate),
			cells: each(s.TTFT, ttft(func(d dist) float64 { return d.P50 }))},
		{figure: "time to first token p99 ms (overhead)", cells: each(s.TTFT, ttft(func(d dist) float64 { return d.P99 }))},
		{figure: fmt.Sprintf("streams/s, %d chunks, %d in flight", s.Chunks, s.Concurrency),
			cells: each(s.Throughput, func(f figures) string { return num(f.RPS, 0) })},
		{figure: fmt.Sprintf("%d-chunk stream identical to direct", s.Chunks), check: "bytes",
			cells: each(s.ByteCheck, func(c byteCheck) string {
				if c.Identical {
					return "identical"
				}
				return "DIFFERENT"
			})},
	}
}

func withOverhead(v float64, o *dist, pick func(d dist) float64) string {
	if o == nil {
		return num(v, 3)
	}
	return fmt.Sprintf("%s (%+.3f)", num(v, 3), pick(*o))
}

func num(v float64, decimals int) string { return fmt.Sprintf("%.*f", decimals, v) }

// each renders every target's value.
func each[V any](m map[string]V, f func(V) string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = f(v)
	}
	return out
}

// failures sums the failed requests of every scenario per target.
func failures(r *report) map[string]string {
	n := map[string]int64{}
	add := func(res map[string]figures) {
		for t, f := range res {
			n[t] += f.Errors
		}
	}
	for _, o := range r.OpenLoop {
		add(o.Results)
	}
	add(r.Capacity.Results)
	add(r.Streaming.TTFT)
	add(r.Streaming.Throughput)
	for t, s := range r.OpenStreams.Results {
		n[t] += s.Errors
	}
	return each(n, func(v int64) string { return fmt.Sprint(v) })
}
