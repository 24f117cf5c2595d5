-- The key lifecycle: admin token roles, use counts for ephemeral keys, revocation
-- reasons, the indexes behind bulk revocation and change polling, and projects.

ALTER TABLE keys ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN max_uses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN revoke_reason TEXT NOT NULL DEFAULT '';

CREATE INDEX keys_created_by ON keys (created_by);
CREATE INDEX keys_updated_at ON keys (updated_at);

CREATE TABLE projects (
	name       TEXT PRIMARY KEY,
	settings   TEXT NOT NULL DEFAULT '{}',
	created_by TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
