package store

import (
	"strconv"
	"strings"
)

// Rebind returns query with its "?" placeholders in the DB's dialect: unchanged for
// SQLite, $1..$n for PostgreSQL. Results are cached, so a query text is rewritten once;
// callers with fixed queries may still keep the result. A "?" inside a quoted string or
// identifier is left alone; PostgreSQL's "?" JSON operators cannot be written (use
// jsonb_exists and friends instead).
func (db *DB) Rebind(query string) string {
	if db.dialect != DialectPostgres {
		return query
	}
	if v, ok := db.rebinds.Load(query); ok {
		return v.(string)
	}
	out := dollarPlaceholders(query)
	db.rebinds.Store(query, out)
	return out
}

// dollarPlaceholders rewrites every "?" outside quotes to $1, $2, ... in order.
func dollarPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // The open quote character, or 0 outside quotes.
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // A doubled quote closes and reopens: same result.
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// queries holds the fixed statements of the store, already in the DB's dialect.
type queries struct {
	getMeta, insertMeta, setMeta            string
	createKey, getKey, updateKey, deleteKey string
	updateKeyIf                             string
}

// keyColumns lists the keys columns in the order scanKey reads them.
const keyColumns = "id, kind, hash, prev_hash, grace_until, hint, name, project, owner, " +
	"parent_id, status, settings, created_by, created_at, updated_at, expires_at, revoked_at, " +
	"role, max_uses, uses, revoke_reason"

// updateKeyText writes the mutable columns of a key.
const updateKeyText = `UPDATE keys SET hash = ?, prev_hash = ?, grace_until = ?, hint = ?,
	name = ?, project = ?, owner = ?, status = ?, settings = ?, updated_at = ?,
	expires_at = ?, revoked_at = ?, role = ?, revoke_reason = ? WHERE id = ?`

// newQueries builds the fixed statements once, through rebind.
func newQueries(rebind func(string) string) queries {
	return queries{
		getMeta: rebind(`SELECT value FROM meta WHERE name = ?`),
		insertMeta: rebind(`INSERT INTO meta (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`),
		setMeta: rebind(`INSERT INTO meta (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
		createKey: rebind(`INSERT INTO keys (` + keyColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		getKey:      rebind(`SELECT ` + keyColumns + ` FROM keys WHERE id = ?`),
		updateKey:   rebind(updateKeyText),
		deleteKey:   rebind(`DELETE FROM keys WHERE id = ?`),
		updateKeyIf: rebind(updateKeyText + ` AND updated_at = ?`),
	}
}
