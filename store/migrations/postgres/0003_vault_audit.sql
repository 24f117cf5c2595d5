-- The vault's keyring, providers and their sealed keys, and the audit log.
-- Times are Unix nanoseconds UTC; ids sort bytewise (COLLATE "C").

-- vault_keks is the keyring: each row is a random KEK version, sealed (wrapped) under the
-- root key (the master key or the KMS key) with AAD bound to its row.
CREATE TABLE vault_keks (
	id         TEXT COLLATE "C" PRIMARY KEY,
	version    INTEGER NOT NULL UNIQUE,
	wrapped    BYTEA NOT NULL,
	root_id    TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE providers (
	name        TEXT COLLATE "C" PRIMARY KEY,
	type        TEXT NOT NULL,
	base_url    TEXT NOT NULL DEFAULT '',
	api_version TEXT NOT NULL DEFAULT '',
	region      TEXT NOT NULL DEFAULT '',
	headers     TEXT NOT NULL DEFAULT '{}',
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

-- provider_keys.secret is sealed by the vault with AAD ("provider_keys", id, "secret").
CREATE TABLE provider_keys (
	id          TEXT COLLATE "C" PRIMARY KEY,
	provider    TEXT COLLATE "C" NOT NULL REFERENCES providers (name) ON DELETE CASCADE,
	label       TEXT NOT NULL DEFAULT '',
	secret      BYTEA NOT NULL,
	fingerprint TEXT NOT NULL,
	hint        TEXT NOT NULL,
	weight      INTEGER NOT NULL DEFAULT 1,
	status      TEXT NOT NULL,
	drain_until BIGINT,
	replaced_by TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

CREATE INDEX provider_keys_provider ON provider_keys (provider, id);

-- audit_log is append-only and hash-chained: hash covers every other column and prev_hash.
CREATE TABLE audit_log (
	seq        BIGINT PRIMARY KEY,
	at         BIGINT NOT NULL,
	actor_id   TEXT NOT NULL DEFAULT '',
	actor_name TEXT NOT NULL DEFAULT '',
	source_ip  TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL,
	target     TEXT NOT NULL DEFAULT '',
	details    TEXT NOT NULL DEFAULT '{}',
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
