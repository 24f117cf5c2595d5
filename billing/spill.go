package billing

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// Spill files. Rows are appended to spillName as JSON lines (store.SpendRow's JSON),
// one fsync per append. A replay first renames it to replayPrefix<nanos>.jsonl, so new
// spills start a new file, then writes the renamed files back in name order and removes
// each once all its rows are in the database. The files hold no prompt and no secret,
// but they do hold key ids and client addresses: they are created 0600 in a 0700
// directory.
const (
	spillName     = "spend-spill.jsonl"
	replayPrefix  = "spend-replay-"
	maxSpillLine  = 1 << 20
	spillDirPerms = 0o700
)

// spillFile is a directory of spill files, used by Append callers and the writer.
type spillFile struct {
	dir  string
	mu   sync.Mutex
	some atomic.Bool // Whether any file may hold rows.
}

// openSpill creates dir if needed and notes whether an earlier run left rows there.
func openSpill(dir string) (*spillFile, error) {
	if err := os.MkdirAll(dir, spillDirPerms); err != nil {
		return nil, fmt.Errorf("spill directory: %w", err)
	}
	s := &spillFile{dir: dir}
	files, err := s.replayFiles()
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(filepath.Join(dir, spillName))
	s.some.Store(len(files) > 0 || (err == nil && info.Size() > 0))
	return s, nil
}

// pending reports whether rows may be waiting in the directory.
func (s *spillFile) pending() bool { return s.some.Load() }

// append writes rows to the spill file and syncs it to disk before returning.
func (s *spillFile) append(rows []store.SpendRow) error {
	if len(rows) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range rows {
		if err := enc.Encode(&rows[i]); err != nil {
			return fmt.Errorf("encoding spend row: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(s.dir, spillName), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening spill file: %w", err)
	}
	_, werr := f.Write(buf.Bytes())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("writing spill file: %w", err)
	}
	s.some.Store(true)
	return nil
}

// replayFiles lists the files being replayed, oldest first.
func (s *spillFile) replayFiles() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, replayPrefix+"*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("listing spill files: %w", err)
	}
	slices.Sort(files)
	return files, nil
}

// rotate renames the spill file for replay, so that appends continue in a new one.
func (s *spillFile) rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	src := filepath.Join(s.dir, spillName)
	info, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && info.Size() == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading spill file: %w", err)
	}
	dst := filepath.Join(s.dir, replayPrefix+strconv.FormatInt(time.Now().UnixNano(), 10)+".jsonl")
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("rotating spill file: %w", err)
	}
	return syncDir(s.dir)
}

// replay feeds every spilled row to write, in batches of size, and removes each file
// once all its rows were written. bad is told about lines that are not rows (a line
// cut short by a crash mid-write) and they are skipped. The first failed write stops
// the replay; its file stays for the next one.
func (s *spillFile) replay(size int, write func([]store.SpendRow) error, bad func(int, error)) error {
	if err := s.rotate(); err != nil {
		return err
	}
	files, err := s.replayFiles()
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := replayFile(name, size, write, bad); err != nil {
			return err
		}
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("removing replayed spill file: %w", err)
		}
	}
	s.mu.Lock()
	info, err := os.Stat(filepath.Join(s.dir, spillName))
	s.some.Store(err == nil && info.Size() > 0)
	s.mu.Unlock()
	return syncDir(s.dir)
}

// replayFile writes one file's rows in batches.
func replayFile(name string, size int, write func([]store.SpendRow) error, bad func(int, error)) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("opening spill file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxSpillLine)
	batch := make([]store.SpendRow, 0, size)
	for line := 1; sc.Scan(); line++ {
		var r store.SpendRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ID == "" {
			bad(line, cmp.Or(err, errors.New("row without an id")))
			continue
		}
		if batch = append(batch, r); len(batch) == size {
			if err := write(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading spill file: %w", err)
	}
	if len(batch) > 0 {
		return write(batch)
	}
	return nil
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing spill directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing spill directory: %w", err)
	}
	return nil
}
