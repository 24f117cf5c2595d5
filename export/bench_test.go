package export

import (
	"context"
	"testing"
	"time"
)

// discard is a sink that drops everything.
type discard struct{}

func (discard) Write(context.Context, [][]byte) error { return nil }
func (discard) Close() error                          { return nil }

// BenchmarkRequest measures what the request path pays to export a request: offering
// it to the intake (or counting it dropped when the intake is full).
func BenchmarkRequest(b *testing.B) {
	for _, format := range []string{FormatJSON, FormatOCSF} {
		b.Run(format, func(b *testing.B) {
			e, _ := New(Options{Format: format, Sinks: map[string]Sink{"d": discard{}}, FlushInterval: time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go e.Run(ctx)
			f := billed()
			f.Spend.UserAgent = "openai-python/1.51.0"
			b.ReportAllocs()
			for b.Loop() {
				e.Request(f)
			}
		})
	}
}

// BenchmarkEncode measures the export goroutine's work per request.
func BenchmarkEncode(b *testing.B) {
	for _, format := range []string{FormatJSON, FormatOCSF} {
		b.Run(format, func(b *testing.B) {
			e, _ := New(Options{Format: format, Sinks: map[string]Sink{"d": discard{}}})
			f := billed()
			f.Spend.UserAgent = "openai-python/1.51.0"
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.line(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
