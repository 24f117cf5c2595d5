// Package storetest opens isolated stores for tests, on SQLite and on PostgreSQL, so that
// any package can run its storage tests against both engines.
//
// SQLite stores are files in t.TempDir(). PostgreSQL stores live in a fresh schema with a
// random name in the database named by TOLLGATE_TEST_DATABASE_URL, reached through the
// search_path connection parameter and dropped when the test ends; without the variable
// PostgreSQL tests are skipped.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// EnvDatabaseURL names the environment variable holding the PostgreSQL test database URL.
const EnvDatabaseURL = "TOLLGATE_TEST_DATABASE_URL"

// skipMessage is how a skipped PostgreSQL test says how to run it.
const skipMessage = "set " + EnvDatabaseURL +
	"=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run PostgreSQL tests (as .ci/run does)"

// Engines returns the engine names that Open accepts, in the order EachEngine runs them.
func Engines() []string {
	return []string{store.DialectSQLite, store.DialectPostgres}
}

// EachEngine runs fn as a subtest named after each engine, with a fresh store.
func EachEngine(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, engine := range Engines() {
		t.Run(engine, func(t *testing.T) {
			fn(t, Open(t, engine))
		})
	}
}

// Open returns a fresh, migrated store on engine ("sqlite" or "postgres") that is closed
// and removed when the test ends. It skips the test when engine is "postgres" and
// TOLLGATE_TEST_DATABASE_URL is unset.
func Open(t testing.TB, engine string, opts ...store.Option) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t, engine), opts...)
	if err != nil {
		t.Fatalf("opening %s store: %v", engine, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("closing %s store: %v", engine, err)
		}
	})
	return db
}

// URL returns the URL of a fresh, empty database on engine for tests that call store.Open
// themselves, for example to open it twice. The database is removed when the test ends,
// after the stores opened on it are closed by their own cleanups.
func URL(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case store.DialectSQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "tollgate.db")
	case store.DialectPostgres:
		base := os.Getenv(EnvDatabaseURL)
		if base == "" {
			t.Skip(skipMessage)
		}
		return postgresSchemaURL(t, base)
	default:
		t.Fatalf("unknown store engine %q", engine)
		return ""
	}
}

// postgresSchemaURL creates a schema with a random name in the database at base and
// returns base with search_path set to it. The schema is dropped in t.Cleanup.
func postgresSchemaURL(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvDatabaseURL)
	}
	schema := "tgtest_" + randomHex(8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connecting to test database: %v", err)
	}
	admin.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("creating test schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // Never fails; see crypto/rand.Read.
	return hex.EncodeToString(b)
}
