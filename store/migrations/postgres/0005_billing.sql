-- Billing: the spend log, its daily and hourly rollups, and budget alert claims.
-- Times are Unix nanoseconds UTC. "day" is the start of the local day in billing's time
-- zone (the budget time zone); "hour" is the start of the UTC hour. Money is BIGINT
-- nano-USD. Ids sort bytewise (COLLATE "C").

-- spend_log has one row per request ("request") and one per failed attempt the provider
-- still billed ("attempt"). Rows are never updated; id makes replays idempotent.
CREATE TABLE spend_log (
	id                 TEXT COLLATE "C" PRIMARY KEY,
	at                 BIGINT NOT NULL,
	day                BIGINT NOT NULL,
	record_type        TEXT NOT NULL,
	request_id         TEXT COLLATE "C" NOT NULL,
	attempt            INTEGER NOT NULL,
	key_id             TEXT COLLATE "C" NOT NULL DEFAULT '',
	parent_key_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
	project            TEXT COLLATE "C" NOT NULL DEFAULT '',
	endpoint           TEXT NOT NULL DEFAULT '',
	model              TEXT COLLATE "C" NOT NULL DEFAULT '',
	provider           TEXT COLLATE "C" NOT NULL DEFAULT '',
	upstream_model     TEXT NOT NULL DEFAULT '',
	status             INTEGER NOT NULL,
	stream             BOOLEAN NOT NULL DEFAULT FALSE,
	prompt_tokens      BIGINT NOT NULL,
	completion_tokens  BIGINT NOT NULL,
	cached_tokens      BIGINT NOT NULL,
	cache_write_tokens BIGINT NOT NULL,
	reasoning_tokens   BIGINT NOT NULL,
	cost_nano          BIGINT NOT NULL,
	usage_source       TEXT NOT NULL,
	price_version      TEXT NOT NULL,
	latency_ms         BIGINT NOT NULL,
	ttft_ms            BIGINT NOT NULL,
	attempts           INTEGER NOT NULL,
	error_code         TEXT NOT NULL DEFAULT '',
	source_ip          TEXT NOT NULL DEFAULT '',
	user_agent         TEXT NOT NULL DEFAULT ''
);

-- Log paging (newest first, by time then id), retention, and the key and status filters.
CREATE INDEX spend_log_at ON spend_log (at, id);
CREATE INDEX spend_log_key_at ON spend_log (key_id, at, id);
CREATE INDEX spend_log_status_at ON spend_log (status, at, id);

-- Rollups, upserted in the same transaction as the rows they count. parent_key_id
-- follows key_id (a child key has one parent) and is kept for parent budgets.
CREATE TABLE spend_daily (
	day               BIGINT NOT NULL,
	key_id            TEXT COLLATE "C" NOT NULL,
	project           TEXT COLLATE "C" NOT NULL,
	model             TEXT COLLATE "C" NOT NULL,
	provider          TEXT COLLATE "C" NOT NULL,
	parent_key_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
	requests          BIGINT NOT NULL,
	prompt_tokens     BIGINT NOT NULL,
	completion_tokens BIGINT NOT NULL,
	cached_tokens     BIGINT NOT NULL,
	cost_nano         BIGINT NOT NULL,
	PRIMARY KEY (day, key_id, project, model, provider)
);

CREATE INDEX spend_daily_key ON spend_daily (key_id, day);
CREATE INDEX spend_daily_parent ON spend_daily (parent_key_id, day);
CREATE INDEX spend_daily_project ON spend_daily (project, day);

CREATE TABLE spend_hourly (
	hour              BIGINT NOT NULL,
	key_id            TEXT COLLATE "C" NOT NULL,
	project           TEXT COLLATE "C" NOT NULL,
	model             TEXT COLLATE "C" NOT NULL,
	provider          TEXT COLLATE "C" NOT NULL,
	day               BIGINT NOT NULL,
	parent_key_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
	requests          BIGINT NOT NULL,
	prompt_tokens     BIGINT NOT NULL,
	completion_tokens BIGINT NOT NULL,
	cached_tokens     BIGINT NOT NULL,
	cost_nano         BIGINT NOT NULL,
	PRIMARY KEY (hour, key_id, project, model, provider)
);

-- budget_alerts makes each threshold alert of a budget period happen once, whichever
-- replica sees the crossing first.
CREATE TABLE budget_alerts (
	scope        TEXT NOT NULL,
	subject      TEXT COLLATE "C" NOT NULL,
	period_start BIGINT NOT NULL,
	threshold    INTEGER NOT NULL,
	claimed_at   BIGINT NOT NULL,
	PRIMARY KEY (scope, subject, period_start, threshold)
);

CREATE INDEX budget_alerts_claimed_at ON budget_alerts (claimed_at);
