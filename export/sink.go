package export

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Sink receives encoded lines (one JSON object each, without the newline) in batches,
// in order, from one goroutine at a time.
type Sink interface {
	Write(ctx context.Context, lines [][]byte) error
	Close() error
}

// writerSink writes newline-delimited lines to an io.Writer.
type writerSink struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
	c   io.Closer
}

var _ Sink = (*writerSink)(nil)

// NewWriterSink writes each batch to w as newline-delimited JSON in one Write call;
// standard output is the usual w. Close leaves w open.
func NewWriterSink(w io.Writer) Sink { return &writerSink{w: w} }

// Write writes the batch.
func (s *writerSink) Write(_ context.Context, lines [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	for _, l := range lines {
		s.buf.Write(l)
		s.buf.WriteByte('\n')
	}
	_, err := s.w.Write(s.buf.Bytes())
	return err
}

// Close closes the underlying file, for sinks that own it.
func (s *writerSink) Close() error {
	if s.c == nil {
		return nil
	}
	return s.c.Close()
}

// FileOptions configure a rotating file sink.
type FileOptions struct {
	// Path is the file; rotated files sit beside it with a timestamp in their name.
	Path string
	// MaxSizeMB rotates the file when it would grow past this size (100).
	MaxSizeMB int
	// MaxFiles is how many rotated files are kept (10); older ones are deleted.
	MaxFiles int
	// MaxAgeDays deletes rotated files older than this; 0 keeps them by count only.
	MaxAgeDays int
	// Compress gzips rotated files.
	Compress bool
}

// NewFileSink writes newline-delimited JSON to a file rotated by size, keeping a
// bounded number of old files (gopkg.in/natefinch/lumberjack.v2). New files are
// created with mode 0600: the request log holds client addresses.
func NewFileSink(o FileOptions) (Sink, error) {
	if o.Path == "" {
		return nil, errors.New("export: a file sink needs a path")
	}
	if o.MaxSizeMB <= 0 {
		o.MaxSizeMB = 100
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 10
	}
	lj := &lumberjack.Logger{Filename: o.Path, MaxSize: o.MaxSizeMB, MaxBackups: o.MaxFiles,
		MaxAge: o.MaxAgeDays, Compress: o.Compress, LocalTime: false}
	return &writerSink{w: lj, c: lj}, nil
}
