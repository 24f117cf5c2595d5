# Everyday commands. CI runs .ci/run.
.PHONY: bench bench-quick bench-micro fuzz

# The benchmark of BENCHMARKS.md: builds tollgate and fakellm, starts everything on
# loopback and prints the table (under 10 minutes on 2 cores). Set
# TOLLGATE_BENCH_DATABASE_URL and TOLLGATE_BENCH_REDIS_URL to include tollgate on
# PostgreSQL and Redis. BENCHFLAGS passes flags, e.g. BENCHFLAGS=-profile.
bench:
	go run ./bench $(BENCHFLAGS)

# A smoke run of about a minute.
bench-quick:
	go run ./bench -quick $(BENCHFLAGS)

# The hot path's micro-benchmarks.
bench-micro:
	go test -run '^$$' -bench . -benchmem ./keys ./quota ./billing ./providers/openai ./server ./app

# Every fuzz target for FUZZTIME each (default 60s), two at a time. Commit what it finds
# under testdata/fuzz: the ordinary test run replays those inputs.
fuzz:
	.ci/fuzz
