package billing

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-llm/tollgate/schema"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

func BenchmarkCost(b *testing.B) {
	c := defaultCatalog(b)
	p, _ := c.Price("anthropic", "claude-sonnet-4-5-20250929")
	u := schema.Usage{PromptTokens: 26_000, CachedTokens: 20_000, CacheWriteTokens: 5_000, CompletionTokens: 800, ReasoningTokens: 300}
	b.ReportAllocs()
	var sink Money
	for b.Loop() {
		sink += p.Cost(u)
	}
	_ = sink
}

func BenchmarkCatalogPrice(b *testing.B) {
	c := defaultCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Price("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
	}
}

// benchReserveSettle reserves and settles in parallel against a key and a project
// budget that never run out.
func benchReserveSettle(b *testing.B, l *Ledger) {
	budgets := []Budget{
		{Scope: ScopeKey, Subject: "bench-key", Limit: 1 << 60, Period: PeriodMonth},
		{Scope: ScopeProject, Subject: "bench-project", Limit: 1 << 60, Period: PeriodDay},
	}
	var n atomic.Int64
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "r" + strconv.FormatInt(n.Add(1), 10)
			res, err := l.Reserve(ctx, ReserveRequest{RequestID: id, Attempt: 1, Budgets: budgets, Amount: MustUSD("0.01")})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := l.Settle(ctx, res, MustUSD("0.004")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReserveSettleMemory(b *testing.B) {
	benchReserveSettle(b, mustLedger(b, LedgerOptions{}))
}

func BenchmarkReserveSettleRedis(b *testing.B) {
	rdb, prefix := testRedis(b)
	benchReserveSettle(b, mustLedger(b, LedgerOptions{Redis: rdb, RedisPrefix: prefix}))
}

func BenchmarkStreamMeter(b *testing.B) {
	chunk := []byte(`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" hello"}}]}`)
	if err := WarmTokenizers(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m := NewStreamMeter("gpt-4o")
		for range 200 {
			m.AddChunk(chunk)
		}
		if m.Tokens() != 200 {
			b.Fatalf("counted %d tokens", m.Tokens())
		}
	}
}

// BenchmarkMonthlyReport10M loads ten million synthetic spend rows for November 2026
// into PostgreSQL with COPY, builds the rollups from them as the writer would have, and
// times a month's spend report grouped by model. It runs only with TOLLGATE_BENCH_10M=1
// (and TOLLGATE_TEST_DATABASE_URL): loading takes minutes and a few GB.
func BenchmarkMonthlyReport10M(b *testing.B) {
	if os.Getenv("TOLLGATE_BENCH_10M") != "1" {
		b.Skip("set TOLLGATE_BENCH_10M=1 (and " + storetest.EnvDatabaseURL + ") to load 10M rows and run this")
	}
	const rows = 10_000_000
	dbURL := storetest.URL(b, store.DialectPostgres)
	db := openStore(b, dbURL)
	ctx := context.Background()
	start := time.Now()
	if err := copySyntheticSpend(ctx, dbURL, rows); err != nil {
		b.Fatal(err)
	}
	loaded := time.Since(start)
	if err := buildRollups(ctx, dbURL); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d rows in %s, rollups in %s", rows, loaded.Round(time.Second), (time.Since(start) - loaded).Round(time.Second))
	r := NewReports(db, time.UTC, func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	for _, tc := range []struct{ name, from, to, group string }{
		{"month_by_model", "2026-11-01", "2026-11-30", "model"},
		{"month_by_key", "2026-11-01", "2026-11-30", "key"},
		{"ragged_by_model", "2026-11-01T10:17:00Z", "2026-11-29T15:43:00Z", "model"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f, err := r.ParseSpendFilter(url.Values{"from": {tc.from}, "to": {tc.to}, "group_by": {tc.group}})
			if err != nil {
				b.Fatal(err)
			}
			var rep SpendReport
			for b.Loop() {
				if rep, err = r.Spend(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(rep.Data)), "groups")
			b.ReportMetric(float64(rep.Total.Requests), "requests")
		})
	}
	b.Run("logs_first_page_by_key", func(b *testing.B) {
		f, _ := r.ParseLogFilter(url.Values{"key_id": {"key0042"}, "limit": {"100"}})
		for b.Loop() {
			if _, err := r.Logs(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("budget_seed_month", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.SpentSince(ctx, store.BudgetScopeKey, "key0042", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// copySyntheticSpend COPYs n rows spread over November 2026: 1,000 keys in 50
// projects, each key using 5 of 40 models, 8 providers.
func copySyntheticSpend(ctx context.Context, dbURL string, n int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	step := int64(30*24*time.Hour) / int64(n)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		at := month + int64(i)*step
		key := i % 1000
		model := (key*7 + i%5) % 40
		row := []any{"s" + strconv.Itoa(i), at, at - at%int64(24*time.Hour), "request", "s" + strconv.Itoa(i), int32(1),
			fmt.Sprintf("key%04d", key), "", fmt.Sprintf("project%02d", key%50), "chat",
			fmt.Sprintf("model-%02d", model), fmt.Sprintf("provider-%d", model%8), fmt.Sprintf("model-%02d", model),
			int32(200), true, int64(900 + i%200), int64(150 + i%50), int64(i % 300), int64(0), int64(0),
			int64(12_000 + i%5000), "provider", "openai/model@1", int64(800), int64(200), int32(1), "", "10.0.0.1", "bench"}
		i++
		return row, nil
	})
	cols := strings.Split("id at day record_type request_id attempt key_id parent_key_id project endpoint model provider "+
		"upstream_model status stream prompt_tokens completion_tokens cached_tokens cache_write_tokens reasoning_tokens "+
		"cost_nano usage_source price_version latency_ms ttft_ms attempts error_code source_ip user_agent", " ")
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"spend_log"}, cols, src)
	return err
}

// buildRollups fills spend_daily and spend_hourly from the spend log with the sums the
// writer upserts batch by batch.
func buildRollups(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	sums := `SUM(CASE WHEN record_type = 'request' THEN 1 ELSE 0 END), SUM(prompt_tokens), SUM(completion_tokens),
		SUM(cached_tokens), SUM(cost_nano)`
	for _, q := range []string{
		`INSERT INTO spend_daily (day, key_id, project, model, provider, parent_key_id, requests, prompt_tokens,
			completion_tokens, cached_tokens, cost_nano)
		 SELECT day, key_id, project, model, provider, MAX(parent_key_id), ` + sums + `
		 FROM spend_log GROUP BY day, key_id, project, model, provider`,
		`INSERT INTO spend_hourly (hour, key_id, project, model, provider, day, parent_key_id, requests, prompt_tokens,
			completion_tokens, cached_tokens, cost_nano)
		 SELECT at - at % 3600000000000, key_id, project, model, provider, MIN(day), MAX(parent_key_id), ` + sums + `
		 FROM spend_log GROUP BY at - at % 3600000000000, key_id, project, model, provider`,
		`ANALYZE`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkInsertSpendBatch writes 500-row batches (with their rollups) as the writer
// does; ns/op is per batch.
func BenchmarkInsertSpendBatch(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine)
			batch := make([]store.SpendRow, 500)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					n++
					batch[i] = testRow("bench", n)
					batch[i].KeyID = "key" + strconv.Itoa(n%50)
				}
				if _, err := db.InsertSpend(context.Background(), batch, time.UTC); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
