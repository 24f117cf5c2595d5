-- Models (routes) defined through the admin API. Config-file models are not stored.
-- spec is the model's JSON (strategy, targets, fallbacks, timeout, retries, pricing);
-- its shape belongs to the admin package. Times are Unix nanoseconds UTC; names use
-- COLLATE "C" so that they sort bytewise, as in SQLite and Go.

CREATE TABLE models (
	name       TEXT COLLATE "C" PRIMARY KEY,
	spec       TEXT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
