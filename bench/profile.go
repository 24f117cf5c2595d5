package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profile captures, for each tollgate, a CPU profile under open-loop chat load at the
// highest rate, one under streams, and the allocation profile since start, into the
// results directory. The load of a profile is not part of any figure: profiling costs
// the gateway a little CPU.
func profile(ctx context.Context, st *stack, s settings, out map[string]string) {
	dir := filepath.Dir(s.Out)
	secs := max(2, int(s.Slice.std().Seconds())*2)
	d := time.Duration(secs) * time.Second
	for _, t := range st.targets {
		if t.pprof == "" {
			continue
		}
		logf("profiling %s", t.name)
		loads := map[string]func(){
			"chat":   func() { attack(ctx, t, s.Rates[len(s.Rates)-1], 0, d, st.body.chat, &samples{}) },
			"stream": func() { attack(ctx, t, 0, s.StreamConcurrency, d, st.body.stream, &samples{}) },
		}
		for _, kind := range []string{"chat", "stream"} {
			path := filepath.Join(dir, fmt.Sprintf("%s-%s.cpu.pprof", t.name, kind))
			var wg sync.WaitGroup
			var err error
			wg.Go(func() { err = fetch(ctx, t.pprof, fmt.Sprintf("profile?seconds=%d", secs), path) })
			loads[kind]()
			wg.Wait()
			out[t.name+"-"+kind+"-cpu"] = report1(path, err)
		}
		path := filepath.Join(dir, t.name+".allocs.pprof")
		out[t.name+"-allocs"] = report1(path, fetch(ctx, t.pprof, "allocs", path))
	}
}

// heapProfile saves the gateway's heap and goroutine profiles now, named after what
// is going on, and returns the heap profile's path.
func heapProfile(ctx context.Context, t *target, s settings, what string) string {
	base := filepath.Join(filepath.Dir(s.Out), t.name+"-"+what)
	if err := fetch(ctx, t.pprof, "goroutine", base+".goroutine.pprof"); err != nil {
		return report1("", err)
	}
	return report1(base+".heap.pprof", fetch(ctx, t.pprof, "heap?gc=1", base+".heap.pprof"))
}

func report1(path string, err error) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return path
}

// fetch saves one pprof endpoint's answer to path.
func fetch(ctx context.Context, addr, what, path string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/debug/pprof/"+what, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: status %d", what, resp.StatusCode)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
