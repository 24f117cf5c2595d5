-- Models (routes) defined through the admin API. Config-file models are not stored.
-- spec is the model's JSON (strategy, targets, fallbacks, timeout, retries, pricing);
-- its shape belongs to the admin package. Times are Unix nanoseconds UTC.

CREATE TABLE models (
	name       TEXT PRIMARY KEY,
	spec       TEXT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
