-- Times are Unix nanoseconds UTC. Ids use COLLATE "C" so that they sort bytewise, as in
-- SQLite and Go, whatever the database's default collation.

CREATE TABLE meta (
	name       TEXT COLLATE "C" PRIMARY KEY,
	value      BYTEA NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE keys (
	id          TEXT COLLATE "C" PRIMARY KEY,
	kind        TEXT NOT NULL,
	hash        BYTEA NOT NULL,
	prev_hash   BYTEA,
	grace_until BIGINT,
	hint        TEXT NOT NULL DEFAULT '',
	name        TEXT NOT NULL DEFAULT '',
	project     TEXT NOT NULL DEFAULT '',
	owner       TEXT NOT NULL DEFAULT '',
	parent_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	settings    TEXT NOT NULL DEFAULT '{}',
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	expires_at  BIGINT,
	revoked_at  BIGINT
);

CREATE INDEX keys_kind_project ON keys (kind, project, id);
CREATE INDEX keys_owner ON keys (owner);
CREATE INDEX keys_parent_id ON keys (parent_id);
CREATE INDEX keys_status ON keys (status);
