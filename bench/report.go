package main

import (
	"os"
	"runtime"
	"strings"
	"time"
)

// report is everything one run measured; it is printed as JSON and as the table.
type report struct {
	Started     time.Time         `json:"started"`
	Seconds     float64           `json:"duration_s"`
	Machine     machine           `json:"machine"`
	Settings    settings          `json:"settings"`
	Targets     []string          `json:"targets"`
	Notes       []string          `json:"notes,omitempty"`
	OpenLoop    []openLoop        `json:"open_loop"`
	Capacity    capacity          `json:"capacity"`
	Streaming   streaming         `json:"streaming"`
	OpenStreams openStreamsReport `json:"open_streams"`
	// IdleRSSMB is each gateway's resident set once started, before any load.
	IdleRSSMB map[string]float64 `json:"idle_rss_mb"`
	// PeakRSSMB is each gateway's peak resident set (VmHWM) after every scenario but
	// the open streams.
	PeakRSSMB map[string]float64    `json:"peak_rss_mb"`
	Spend     map[string]spendCheck `json:"spend"`
	Checks    []check               `json:"checks"`
	Profiles  map[string]string     `json:"profiles,omitempty"`
}

// figures are one target's results in one scenario.
type figures struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	FirstErr string  `json:"first_error,omitempty"`
	RPS      float64 `json:"rps"`
	Latency  dist    `json:"latency"`
	// Overhead is Latency minus direct's, percentile by percentile.
	Overhead     *dist `json:"overhead,omitempty"`
	TTFT         *dist `json:"ttft,omitempty"`
	TTFTOverhead *dist `json:"ttft_overhead,omitempty"`
	// CPUPerRequest is the gateway's CPU time (user + system) per request, in µs.
	CPUPerRequest float64 `json:"cpu_us_per_request,omitempty"`
}

type openLoop struct {
	Rate    int                `json:"rate"`
	Results map[string]figures `json:"results"`
}

type capacity struct {
	Concurrency int                `json:"concurrency"`
	Results     map[string]figures `json:"results"`
}

type streaming struct {
	Chunks      int                  `json:"chunks"`
	Rate        int                  `json:"ttft_rate"`
	Concurrency int                  `json:"concurrency"`
	TTFT        map[string]figures   `json:"ttft"`
	Throughput  map[string]figures   `json:"throughput"`
	ByteCheck   map[string]byteCheck `json:"byte_check"`
}

type openStreamsReport struct {
	Requested int                    `json:"requested"`
	Streams   int                    `json:"streams"`
	FDLimit   uint64                 `json:"fd_hard_limit"`
	Hold      string                 `json:"hold"`
	Delay     string                 `json:"chunk_delay"`
	Results   map[string]openStreams `json:"results"`
}

// spendCheck compares the spend rows a tollgate wrote with the requests it answered.
type spendCheck struct {
	Answered   int64  `json:"answered"`
	Unanswered int64  `json:"unanswered"`
	Rows       int64  `json:"rows"`
	Status     string `json:"status"` // ok, lost, extra, error
	Detail     string `json:"detail,omitempty"`
}

// check is one target of the issue, evaluated for one tollgate.
type check struct {
	Target string `json:"target"`
	// Key names the check for the table; Name says it in words.
	Key   string  `json:"key"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Pass  bool    `json:"pass"`
}

// figuresOf summarises samples; direct, when given, is the baseline for overheads.
func figuresOf(s, direct *samples, gateway bool) figures {
	f := figures{Requests: s.ok + s.bad, Errors: s.bad, FirstErr: s.firstErr, RPS: round1(s.rate()),
		Latency: distOf(s.lat)}
	if len(s.ttft) > 0 {
		d := distOf(s.ttft)
		f.TTFT = &d
	}
	if direct != nil && s != direct {
		o := f.Latency.minus(distOf(direct.lat))
		f.Overhead = &o
		if f.TTFT != nil && len(direct.ttft) > 0 {
			t := f.TTFT.minus(distOf(direct.ttft))
			f.TTFTOverhead = &t
		}
	}
	if gateway {
		f.CPUPerRequest = round1(s.cpuPerRequest())
	}
	return f
}

// machine describes where the run happened.
type machine struct {
	CPUs     int     `json:"nproc"`
	Model    string  `json:"cpu_model"`
	MemoryGB float64 `json:"memory_gb"`
	Kernel   string  `json:"kernel"`
	Go       string  `json:"go"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, err := parseStatusKB(b, "MemTotal"); err == nil {
			m.MemoryGB = round1(float64(kb) / (1 << 20))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}
