// Command fakellm runs the fake LLM provider of package fakellm on its own:
//
//	fakellm --listen 127.0.0.1:9001 --ttft 200ms --chunk-delay 20ms --error-rate 0.05
//
// It prints the base URL to give an OpenAI SDK and stops gracefully on SIGINT or
// SIGTERM. Every flag sets the matching fakellm.Options field; requests can still
// override them with X-Fake-* headers or a "fakellm" body field.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tollgate-llm/tollgate/fakellm"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakellm:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakellm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts fakellm.Options
	listen := fs.String("listen", "127.0.0.1:9001", "address to listen on")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay before every answer")
	fs.DurationVar(&opts.TTFT, "ttft", 0, "time to first token")
	fs.DurationVar(&opts.ChunkDelay, "chunk-delay", 0, "delay between generated chunks")
	fs.IntVar(&opts.Chunks, "chunks", 8, "generated words (tokens, stream chunks) per answer")
	fs.Float64Var(&opts.ErrorRate, "error-rate", 0, "probability (0..1) that a request fails")
	fs.IntVar(&opts.ErrorStatus, "error-status", 500, "status of injected errors")
	keys := fs.String("keys", "", "comma-separated accepted API keys (default: any non-empty key)")
	models := fs.String("models", strings.Join(fakellm.DefaultModels, ","), `comma-separated served models ("" or "*": any)`)
	fs.Int64Var(&opts.Seed, "seed", 0, "seed of the error-injection RNG and ids")
	fs.IntVar(&opts.RateLimitRequests, "rate-limit-requests", 0, "requests per minute per key (0: unlimited)")
	fs.IntVar(&opts.RateLimitTokens, "rate-limit-tokens", 0, "tokens per minute per key (0: unlimited)")
	fs.IntVar(&opts.MaxRecorded, "max-recorded", -1, "requests kept for inspection (negative: none)")
	grace := fs.Duration("shutdown-grace", 5*time.Second, "how long shutdown waits for requests in flight")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	opts.Keys = splitList(*keys)
	opts.Models = splitList(*models)
	if err := opts.Validate(); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := fakellm.New(opts)
	url, err := srv.Start(*listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, url)
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Requests in a hang mode or a slow stream outlive any grace; cutting them off
		// is the expected end, not a failure.
		fmt.Fprintln(stderr, "fakellm: cut off requests still in flight:", err)
	}
	return nil
}

// splitList splits a comma-separated flag into trimmed, non-empty items; it returns an
// empty, non-nil slice for an empty flag.
func splitList(s string) []string {
	out := []string{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
