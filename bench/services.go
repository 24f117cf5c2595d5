package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-llm/tollgate/store"
)

// services are the PostgreSQL schema and the Redis database of the tollgate-pg target.
type services struct {
	// dbURL is the PostgreSQL URL with search_path set to a schema of the bench's own.
	dbURL    string
	redisURL string
	// drop removes the schema.
	drop func() error
}

// openServices finds PostgreSQL and Redis from TOLLGATE_BENCH_DATABASE_URL and
// TOLLGATE_BENCH_REDIS_URL (else the TOLLGATE_TEST_* URLs the tests use) and creates a
// fresh schema, so the spend rows counted are exactly the bench's. It returns nil and
// the reason when either service is not configured or not reachable.
func openServices(ctx context.Context) (*services, string) {
	pg := cmp.Or(os.Getenv("TOLLGATE_BENCH_DATABASE_URL"), os.Getenv("TOLLGATE_TEST_DATABASE_URL"))
	rd := cmp.Or(os.Getenv("TOLLGATE_BENCH_REDIS_URL"), os.Getenv("TOLLGATE_TEST_REDIS_URL"))
	if pg == "" || rd == "" {
		return nil, "tollgate on PostgreSQL and Redis skipped: set TOLLGATE_BENCH_DATABASE_URL and " +
			"TOLLGATE_BENCH_REDIS_URL (or the TOLLGATE_TEST_* URLs) to include it"
	}
	if err := pingRedis(ctx, rd); err != nil {
		return nil, "tollgate on PostgreSQL and Redis skipped: Redis unreachable: " + err.Error()
	}
	s, err := createSchema(ctx, pg)
	if err != nil {
		return nil, "tollgate on PostgreSQL and Redis skipped: PostgreSQL: " + err.Error()
	}
	s.redisURL = rd
	return s, ""
}

func pingRedis(ctx context.Context, u string) error {
	opts, err := redis.ParseURL(u)
	if err != nil {
		return errors.New("not a redis:// URL")
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// createSchema creates a schema with a random name and returns base with search_path
// set to it.
func createSchema(ctx context.Context, base string) (*services, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("not a postgres:// URL")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	schema := "tgbench_" + randomHex(6)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(cctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating a schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		return err
	}
	return &services{dbURL: u.String(), drop: drop}, nil
}

// countSpend opens a stopped tollgate's store and counts its spend log rows.
func countSpend(ctx context.Context, dbURL string) (int64, error) {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.CountSpend(ctx)
}

// cleanRedis deletes every key of the Redis database whose name contains one of ids:
// the run's counters. Reservation markers, named by request id, expire on their own
// within minutes.
func (s *services) cleanRedis(ids []string) error {
	opts, err := redis.ParseURL(s.redisURL)
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range ids {
		var batch []string
		it := c.Scan(ctx, 0, "*"+id+"*", 1000).Iterator()
		for it.Next(ctx) {
			batch = append(batch, it.Val())
		}
		if err := it.Err(); err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := c.Del(ctx, batch...).Err(); err != nil {
				return err
			}
		}
	}
	return nil
}
