-- Times are Unix nanoseconds UTC. STRICT makes SQLite reject values of the wrong type.

CREATE TABLE meta (
	name       TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE keys (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	hash        BLOB NOT NULL,
	prev_hash   BLOB,
	grace_until INTEGER,
	hint        TEXT NOT NULL DEFAULT '',
	name        TEXT NOT NULL DEFAULT '',
	project     TEXT NOT NULL DEFAULT '',
	owner       TEXT NOT NULL DEFAULT '',
	parent_id   TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	settings    TEXT NOT NULL DEFAULT '{}',
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	expires_at  INTEGER,
	revoked_at  INTEGER
) STRICT;

CREATE INDEX keys_kind_project ON keys (kind, project, id);
CREATE INDEX keys_owner ON keys (owner);
CREATE INDEX keys_parent_id ON keys (parent_id);
CREATE INDEX keys_status ON keys (status);
