-- Billing: the spend log, its daily and hourly rollups, and budget alert claims.
-- Times are Unix nanoseconds UTC. "day" is the start of the local day in billing's time
-- zone (the budget time zone); "hour" is the start of the UTC hour. Money is INTEGER
-- nano-USD. STRICT makes SQLite reject values of the wrong type.

-- spend_log has one row per request ("request") and one per failed attempt the provider
-- still billed ("attempt"). Rows are never updated; id makes replays idempotent.
CREATE TABLE spend_log (
	id                 TEXT PRIMARY KEY,
	at                 INTEGER NOT NULL,
	day                INTEGER NOT NULL,
	record_type        TEXT NOT NULL,
	request_id         TEXT NOT NULL,
	attempt            INTEGER NOT NULL,
	key_id             TEXT NOT NULL DEFAULT '',
	parent_key_id      TEXT NOT NULL DEFAULT '',
	project            TEXT NOT NULL DEFAULT '',
	endpoint           TEXT NOT NULL DEFAULT '',
	model              TEXT NOT NULL DEFAULT '',
	provider           TEXT NOT NULL DEFAULT '',
	upstream_model     TEXT NOT NULL DEFAULT '',
	status             INTEGER NOT NULL,
	stream             INTEGER NOT NULL DEFAULT 0,
	prompt_tokens      INTEGER NOT NULL,
	completion_tokens  INTEGER NOT NULL,
	cached_tokens      INTEGER NOT NULL,
	cache_write_tokens INTEGER NOT NULL,
	reasoning_tokens   INTEGER NOT NULL,
	cost_nano          INTEGER NOT NULL,
	usage_source       TEXT NOT NULL,
	price_version      TEXT NOT NULL,
	latency_ms         INTEGER NOT NULL,
	ttft_ms            INTEGER NOT NULL,
	attempts           INTEGER NOT NULL,
	error_code         TEXT NOT NULL DEFAULT '',
	source_ip          TEXT NOT NULL DEFAULT '',
	user_agent         TEXT NOT NULL DEFAULT ''
) STRICT;

-- Log paging (newest first, by time then id), retention, and the key and status filters.
CREATE INDEX spend_log_at ON spend_log (at, id);
CREATE INDEX spend_log_key_at ON spend_log (key_id, at, id);
CREATE INDEX spend_log_status_at ON spend_log (status, at, id);

-- Rollups, upserted in the same transaction as the rows they count. parent_key_id
-- follows key_id (a child key has one parent) and is kept for parent budgets.
CREATE TABLE spend_daily (
	day               INTEGER NOT NULL,
	key_id            TEXT NOT NULL,
	project           TEXT NOT NULL,
	model             TEXT NOT NULL,
	provider          TEXT NOT NULL,
	parent_key_id     TEXT NOT NULL DEFAULT '',
	requests          INTEGER NOT NULL,
	prompt_tokens     INTEGER NOT NULL,
	completion_tokens INTEGER NOT NULL,
	cached_tokens     INTEGER NOT NULL,
	cost_nano         INTEGER NOT NULL,
	PRIMARY KEY (day, key_id, project, model, provider)
) STRICT;

CREATE INDEX spend_daily_key ON spend_daily (key_id, day);
CREATE INDEX spend_daily_parent ON spend_daily (parent_key_id, day);
CREATE INDEX spend_daily_project ON spend_daily (project, day);

CREATE TABLE spend_hourly (
	hour              INTEGER NOT NULL,
	key_id            TEXT NOT NULL,
	project           TEXT NOT NULL,
	model             TEXT NOT NULL,
	provider          TEXT NOT NULL,
	day               INTEGER NOT NULL,
	parent_key_id     TEXT NOT NULL DEFAULT '',
	requests          INTEGER NOT NULL,
	prompt_tokens     INTEGER NOT NULL,
	completion_tokens INTEGER NOT NULL,
	cached_tokens     INTEGER NOT NULL,
	cost_nano         INTEGER NOT NULL,
	PRIMARY KEY (hour, key_id, project, model, provider)
) STRICT;

-- budget_alerts makes each threshold alert of a budget period happen once, whichever
-- replica sees the crossing first.
CREATE TABLE budget_alerts (
	scope        TEXT NOT NULL,
	subject      TEXT NOT NULL,
	period_start INTEGER NOT NULL,
	threshold    INTEGER NOT NULL,
	claimed_at   INTEGER NOT NULL,
	PRIMARY KEY (scope, subject, period_start, threshold)
) STRICT;

CREATE INDEX budget_alerts_claimed_at ON budget_alerts (claimed_at);
