-- Anomalies: findings of the per-key detectors (package detect), listed by
-- GET /admin/v1/anomalies. Times are Unix nanoseconds UTC. The id is derived from the
-- key, the kind and the window, so a finding is stored once. details is a JSON object;
-- action says what was done about it ("suspended" when the key's auto_suspend policy
-- disabled it).
CREATE TABLE anomalies (
	id           TEXT PRIMARY KEY,
	at           INTEGER NOT NULL,
	key_id       TEXT NOT NULL,
	project      TEXT NOT NULL DEFAULT '',
	kind         TEXT NOT NULL,
	severity     TEXT NOT NULL,
	score        REAL NOT NULL,
	window_start INTEGER NOT NULL,
	summary      TEXT NOT NULL,
	details      TEXT NOT NULL DEFAULT '{}',
	action       TEXT NOT NULL DEFAULT ''
) STRICT;

-- Listing newest first, by time then id, over everything or one key.
CREATE INDEX anomalies_at ON anomalies (at, id);
CREATE INDEX anomalies_key_at ON anomalies (key_id, at, id);
