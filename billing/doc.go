// Package billing prices requests, enforces budgets and records spend: money, the
// pricing catalog, the budget ledger (reserve → settle → release), the batched spend
// writer with its spill file, retention, reports and budget alerts.
//
// # Money
//
// Money is int64 nano-USD; no float touches money anywhere. Decimal strings (config
// prices, budget limits, the catalog) are parsed exactly by ParseUSD, which accepts
// digits with one optional decimal point and an optional exponent ("2.50", ".5",
// "1e-3": what JSON numbers and YAML decimals look like) and refuses signs, NaN, and
// anything finer than a nano-dollar rather than round it. Reports print exact decimals
// (Money.Decimal, and JSON numbers without a float round trip).
//
// # Prices and cost
//
// The catalog is configs/pricing.yaml, embedded in the binary: USD per million tokens
// for input, cached input, cache writes, output and (where priced apart) reasoning, a
// long-context band where the provider has one, the output limit, a version and the
// date and source of each entry. Catalog.Price finds an upstream model by the rule in
// Catalog.Lookup (exact ids first, then without Vertex "@" versions, provider path
// prefixes, Bedrock region/vendor/version parts, snapshot dates, "-latest") and applies
// config overrides (the route's, then the target's); an override drops the catalog's
// long-context band. A model nobody prices costs zero and records the price version
// "unpriced"; every spend row records the version it was priced with
// ("openai/gpt-4o@1", "override@1a2b3c4d").
//
// Price.Cost prices normalised usage: uncached prompt tokens at the input price,
// cached at the cached-input price, cache writes at the cache-write price, completion
// at the output price (reasoning at its own price when the catalog has one), all at the
// long-context rates when the prompt is above the band. The sum is exact (128-bit) and
// rounded once per request, half up, to the nano-USD.
//
// # Usage sources and cut streams
//
// Every spend row says where its numbers came from: "provider" (the upstream's usage),
// "estimated" (tollgate counted some of it) or "none" (nothing to count; the cost,
// usually zero, is a lower bound). The policy for a stream cut short by the client or
// the upstream: the prompt is billed (the upstream's count if it sent one, else the
// prompt estimate) plus what was produced (the larger of the upstream's count and a
// tiktoken count of the streamed text, StreamMeter). A failed attempt that the provider
// still billed is recorded as its own row ("attempt", id "<request>/<n>") and counts
// against the budgets. Token counting uses tiktoken-go with its offline loader: the
// encodings are compiled in and nothing is downloaded at run time; OpenAI's current
// families use o200k_base, everything else cl100k_base (an estimate).
//
// # Budgets
//
// Budgets belong to keys and projects, with periods day, week, month and total that
// start on calendar boundaries in one configured time zone (IANA): days at local
// midnight, weeks on Monday (ISO 8601), months on the 1st. Ledger.Reserve holds a
// request's worst case (WorstCaseOf: prompt estimate at the dearest prompt rate plus
// max_tokens, or the model's output limit, at the dearer of output and reasoning)
// against every budget above the key, all or nothing, and refuses with 429
// insufficient_quota / budget_exceeded naming the budget. Settle records the real cost
// and releases the rest, once per request id and attempt; Release gives everything
// back. A request whose worst case is zero is never refused. Reservations that are
// never settled (a crashed replica) expire after ReservationTTL.
//
// Counters live in this process, or in Redis (one Lua script per reserve and per
// settle, all of a request's keys in one hash slot) so that replicas share them. The
// database is the record: a counter is seeded, the first time a budget period is used
// (start, restart, new replica, period rollover, counters expired in Redis), from the
// daily rollup table, whose rows the spend writer upserts with every batch; no raw log
// scan. Spend still in writers' queues when a counter is seeded is not in it. When the
// spend cannot be read to seed a counter, Reserve fails closed with a retryable 503
// budget_unavailable. Without Redis, several replicas each enforce the whole budget:
// run Redis with more than one replica.
//
// # The spend log
//
// Writer takes rows off the request path through a bounded queue and writes them in
// batches (multi-row INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id, with the
// daily and hourly rollups upserted for exactly the inserted rows in the same
// transaction, in primary-key order). When the queue stays full, Append spills rows to
// an append-only JSON-lines file, fsync'd per append; while the database is down the
// writer holds its batch and retries, the queue fills, and the rest spills. The file is
// replayed at start and as soon as writes succeed; row ids make replays idempotent.
// Close drains the queue to the database or the file. Prune and RunRetention delete old
// spend rows, hourly rollups and alert claims in small batches.
//
// # Reports
//
// Reports answers the admin API and the CLI without HTTP types: spend grouped by key,
// project, model, provider, day or hour, read from the rollups (whole days from the
// daily table, whole hours from the hourly one, sub-hour edges from the log through its
// time index), and the log itself with cursor paging; both render as CSV.
//
// # Alerts
//
// Alerter raises an alert when a key's or project's spend reaches 50%, 80% and 100% of
// its budget: a claim row in the database makes it happen once per threshold and
// period across replicas; it then logs, records an audit event and posts a webhook
// signed with X-Tollgate-Signature (see Sign and VerifySignature).
package billing
