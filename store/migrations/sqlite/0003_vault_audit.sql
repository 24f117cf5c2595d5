-- The vault's keyring, providers and their sealed keys, and the audit log.
-- Times are Unix nanoseconds UTC.

-- vault_keks is the keyring: each row is a random KEK version, sealed (wrapped) under the
-- root key (the master key or the KMS key) with AAD bound to its row.
CREATE TABLE vault_keks (
	id         TEXT PRIMARY KEY,
	version    INTEGER NOT NULL UNIQUE,
	wrapped    BLOB NOT NULL,
	root_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE providers (
	name        TEXT PRIMARY KEY,
	type        TEXT NOT NULL,
	base_url    TEXT NOT NULL DEFAULT '',
	api_version TEXT NOT NULL DEFAULT '',
	region      TEXT NOT NULL DEFAULT '',
	headers     TEXT NOT NULL DEFAULT '{}',
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

-- provider_keys.secret is sealed by the vault with AAD ("provider_keys", id, "secret").
CREATE TABLE provider_keys (
	id          TEXT PRIMARY KEY,
	provider    TEXT NOT NULL REFERENCES providers (name) ON DELETE CASCADE,
	label       TEXT NOT NULL DEFAULT '',
	secret      BLOB NOT NULL,
	fingerprint TEXT NOT NULL,
	hint        TEXT NOT NULL,
	weight      INTEGER NOT NULL DEFAULT 1,
	status      TEXT NOT NULL,
	drain_until INTEGER,
	replaced_by TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX provider_keys_provider ON provider_keys (provider, id);

-- audit_log is append-only and hash-chained: hash covers every other column and prev_hash.
CREATE TABLE audit_log (
	seq        INTEGER PRIMARY KEY,
	at         INTEGER NOT NULL,
	actor_id   TEXT NOT NULL DEFAULT '',
	actor_name TEXT NOT NULL DEFAULT '',
	source_ip  TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL,
	target     TEXT NOT NULL DEFAULT '',
	details    TEXT NOT NULL DEFAULT '{}',
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
