package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// clock is a settable time source for store.WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func TestOpenMigratesOnce(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, engine)
			var versions []int
			for i := range 3 {
				db, err := store.Open(ctx, url)
				if err != nil {
					t.Fatalf("open %d: %v", i+1, err)
				}
				if got := db.Dialect(); got != engine {
					t.Errorf("Dialect() = %q, want %q", got, engine)
				}
				if err := db.Ping(ctx); err != nil {
					t.Errorf("Ping: %v", err)
				}
				versions = append(versions, countMigrations(t, db))
				if err := db.Close(); err != nil {
					t.Fatalf("close %d: %v", i+1, err)
				}
			}
			if versions[0] == 0 || versions[1] != versions[0] || versions[2] != versions[0] {
				t.Errorf("schema_migrations rows after each open = %v, want the same non-zero count", versions)
			}
		})
	}
}

func TestConcurrentOpen(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, engine)
			const replicas = 6
			dbs := make([]*store.DB, replicas)
			errs := make([]error, replicas)
			var wg sync.WaitGroup
			for i := range replicas {
				wg.Go(func() { dbs[i], errs[i] = store.Open(ctx, url) })
			}
			wg.Wait()
			counts := map[int]bool{}
			for i, db := range dbs {
				if errs[i] != nil {
					t.Errorf("replica %d: %v", i, errs[i])
					continue
				}
				counts[countMigrations(t, db)] = true
				db.Close()
			}
			if len(counts) != 1 {
				t.Errorf("replicas saw different migration counts: %v", counts)
			}
		})
	}
}

// countMigrations returns the number of rows in schema_migrations.
func countMigrations(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("counting migrations: %v", err)
	}
	return n
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"empty", ""},
		{"memory", ":memory:"},
		{"unknown scheme", "mysql://root@localhost/db"},
		{"unreachable postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"},
		{"sqlite path is a directory", t.TempDir()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), tt.url)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
		})
	}
}

func TestMeta(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		steps := []struct {
			name string
			do   func() ([]byte, error)
			want []byte
			err  error
		}{
			{"get missing", func() ([]byte, error) { return db.GetMeta(ctx, "a") }, nil, store.ErrNotFound},
			{"put absent", func() ([]byte, error) { return db.PutMetaIfAbsent(ctx, "a", []byte{0, 1, 0xff}) }, []byte{0, 1, 0xff}, nil},
			{"put present keeps first", func() ([]byte, error) { return db.PutMetaIfAbsent(ctx, "a", []byte("second")) }, []byte{0, 1, 0xff}, nil},
			{"set replaces", func() ([]byte, error) { return nil, db.SetMeta(ctx, "a", []byte("third")) }, nil, nil},
			{"get after set", func() ([]byte, error) { return db.GetMeta(ctx, "a") }, []byte("third"), nil},
			{"set new", func() ([]byte, error) { return nil, db.SetMeta(ctx, "b", nil) }, nil, nil},
			{"get empty", func() ([]byte, error) { return db.GetMeta(ctx, "b") }, []byte{}, nil},
			{"other name untouched", func() ([]byte, error) { return db.GetMeta(ctx, "a") }, []byte("third"), nil},
		}
		for _, s := range steps {
			got, err := s.do()
			if !errors.Is(err, s.err) {
				t.Fatalf("%s: error = %v, want %v", s.name, err, s.err)
			}
			if !bytes.Equal(got, s.want) {
				t.Errorf("%s: got %q, want %q", s.name, got, s.want)
			}
		}
	})
}

func TestPutMetaIfAbsentRace(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const writers = 24
		got := make([][]byte, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range writers {
			wg.Go(func() {
				<-start
				got[i], errs[i] = db.PutMetaIfAbsent(ctx, "secret_id", fmt.Appendf(nil, "writer-%d", i))
			})
		}
		close(start)
		wg.Wait()
		stored, err := db.GetMeta(ctx, "secret_id")
		if err != nil {
			t.Fatal(err)
		}
		for i := range writers {
			if errs[i] != nil {
				t.Errorf("writer %d: %v", i, errs[i])
			} else if !bytes.Equal(got[i], stored) {
				t.Errorf("writer %d got %q, stored value is %q", i, got[i], stored)
			}
		}
	})
}
