// Command bench measures tollgate side by side with the floor, a bare reverse proxy with
// a key lookup, and with the upstream itself:
//
//	go run ./bench            # the full run, under 10 minutes on 2 cores
//	go run ./bench -quick     # a smoke run of about a minute
//
// It builds cmd/tollgate and cmd/fakellm, then starts everything on loopback: fakellm
// (the upstream), the floor (this binary, re-executed with the floor subcommand), a
// tollgate with every feature on over SQLite, and, when TOLLGATE_BENCH_DATABASE_URL and
// TOLLGATE_BENCH_REDIS_URL (or the TOLLGATE_TEST_* URLs) are set, the same tollgate over
// PostgreSQL and Redis. Every gateway is its own process, so its CPU time and peak
// resident set, read from /proc, are its own.
//
// Load comes from vegeta's library (github.com/tsenart/vegeta/v12/lib): open loop at a
// fixed rate, or closed loop at a fixed concurrency. Percentiles are exact, computed
// from every sample. Each scenario runs against every target in short slices,
// interleaved and rotated round by round, so that all targets share the machine's
// moods. The run prints one markdown table, with PASS or MISS for each of the issue's
// targets, and the JSON of everything measured, which it also writes to
// bench/results/latest.json. BENCHMARKS.md explains every figure.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// settings are the knobs of a run; the defaults fit in 10 minutes on 2 cores.
type settings struct {
	Quick             bool     `json:"quick"`
	Rounds            int      `json:"rounds"`
	Slice             duration `json:"slice"`
	Warmup            duration `json:"warmup"`
	Rates             []int    `json:"rates"`
	Concurrency       int      `json:"concurrency"`
	StreamRate        int      `json:"stream_rate"`
	StreamConcurrency int      `json:"stream_concurrency"`
	Chunks            int      `json:"chunks"`
	OpenStreams       int      `json:"open_streams"`
	OpenRate          int      `json:"open_rate"`
	OpenHold          duration `json:"open_hold"`
	OpenDelay         duration `json:"open_chunk_delay"`
	Profile           bool     `json:"profile"`
	// Only lists the scenarios to run; empty means all.
	Only []string `json:"only,omitempty"`
	Out  string   `json:"-"`
	Keep bool     `json:"-"`
}

// scenarios are the names -only accepts.
var scenarios = []string{"open-loop", "capacity", "ttft", "streams", "open-streams"}

// wants reports whether the run includes a scenario.
func (s settings) wants(name string) bool { return len(s.Only) == 0 || slices.Contains(s.Only, name) }

// duration is a time.Duration that reads as "4s" in JSON.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// std returns d as a time.Duration.
func (d duration) std() time.Duration { return time.Duration(d) }

func parseFlags(args []string) (settings, error) {
	s := settings{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&s.Quick, "quick", false, "smoke run of about a minute (1 round, short slices, 1,000 open streams)")
	fs.IntVar(&s.Rounds, "rounds", 3, "interleaved rounds per scenario")
	fs.DurationVar((*time.Duration)(&s.Slice), "slice", 3*time.Second, "length of one target's slice in a round")
	fs.DurationVar((*time.Duration)(&s.Warmup), "warmup", time.Second, "warm-up load per target before measuring")
	rates := fs.String("rates", "500,2000", "open-loop rates, req/s, comma-separated (targets use the first and last)")
	fs.IntVar(&s.Concurrency, "concurrency", 64, "requests in flight for the capacity scenario")
	fs.IntVar(&s.StreamRate, "stream-rate", 200, "streams per second for the time-to-first-token scenario")
	fs.IntVar(&s.StreamConcurrency, "stream-concurrency", 32, "streams in flight for the streams/s scenario")
	fs.IntVar(&s.Chunks, "chunks", 24, "generated chunks per stream")
	fs.IntVar(&s.OpenStreams, "open-streams", 10000, "slow streams held open at once (capped by the fd hard limit)")
	fs.IntVar(&s.OpenRate, "open-rate", 2000, "slow streams opened per second")
	fs.DurationVar((*time.Duration)(&s.OpenHold), "open-hold", 2*time.Second, "how long the slow streams stay open once all are")
	fs.DurationVar((*time.Duration)(&s.OpenDelay), "open-delay", time.Second, "pause between the chunks of a slow stream")
	only := fs.String("only", "", "run only these scenarios, comma-separated: "+strings.Join(scenarios, ", "))
	fs.BoolVar(&s.Profile, "profile", false, "also profile each tollgate under load (pprof files in bench/results/)")
	fs.StringVar(&s.Out, "out", "", "where to write the JSON (default bench/results/latest.json in the module)")
	fs.BoolVar(&s.Keep, "keep", false, "keep the temporary directory (binaries, configs, logs, databases)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	for r := range strings.SplitSeq(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			return s, fmt.Errorf("-rates: %q is not a positive number", r)
		}
		s.Rates = append(s.Rates, n)
	}
	for name := range strings.SplitSeq(*only, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(scenarios, name) {
			return s, fmt.Errorf("-only: unknown scenario %q (want %s)", name, strings.Join(scenarios, ", "))
		}
		s.Only = append(s.Only, name)
	}
	if s.Quick {
		quick(fs, &s)
	}
	if s.Rounds < 1 || s.Slice <= 0 || s.Concurrency < 1 || s.StreamConcurrency < 1 || s.Chunks < 1 ||
		s.StreamRate < 1 || s.OpenRate < 1 || s.OpenDelay <= 0 || s.OpenStreams < 0 {
		return s, fmt.Errorf("rounds, slice, concurrencies, rates and chunks must be positive")
	}
	return s, nil
}

// quick shortens every flag left at its default to make a smoke run of about a minute.
func quick(fs *flag.FlagSet, s *settings) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	short := map[string]func(){
		"rounds":       func() { s.Rounds = 1 },
		"slice":        func() { s.Slice = duration(2 * time.Second) },
		"warmup":       func() { s.Warmup = duration(500 * time.Millisecond) },
		"open-streams": func() { s.OpenStreams = 1000 },
		"open-hold":    func() { s.OpenHold = duration(time.Second) },
		"open-delay":   func() { s.OpenDelay = duration(500 * time.Millisecond) },
	}
	for name, apply := range short {
		if !set[name] {
			apply()
		}
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "floor" {
		if err := runFloor(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		return
	}
	s, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if s.Out == "" {
		root, err := moduleRoot(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		s.Out = filepath.Join(root, "bench", "results", "latest.json")
	}
	r, err := run(ctx, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := output(r, s.Out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// output prints the table and the JSON, and writes the JSON to path.
func output(r *report, path string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(markdown(r))
	for _, n := range r.Notes {
		fmt.Println("- " + n)
	}
	fmt.Printf("\n```json\n%s\n```\n", js)
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(js, '\n'), 0o644)
}

// began is when the bench started, for the progress lines.
var began = time.Now()

// logf reports progress on stderr, so stdout holds only the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: %5.1fs "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
}
