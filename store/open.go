package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // Registers the "pgx" database/sql driver.
	_ "modernc.org/sqlite"             // Registers the "sqlite" database/sql driver.
)

// Dialect names returned by DB.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// sqlitePragmas are applied by the driver to every new connection of the pool.
const sqlitePragmas = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_txlock=immediate"

// DB is an open store. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect string
	now     func() time.Time
	q       queries
	rebinds sync.Map // "?" query text → "$n" query text, PostgreSQL only.
	stmts   stmtCache
}

// Option changes how Open sets up a DB.
type Option func(*DB)

// WithClock makes the DB read the time from now instead of time.Now; tests use it to get
// predictable CreatedAt and UpdatedAt values.
func WithClock(now func() time.Time) Option {
	return func(db *DB) { db.now = now }
}

// Open connects to the database named by url, applies pending migrations and returns the
// store. url is a PostgreSQL URL (postgres:// or postgresql://), a SQLite URL (sqlite:PATH
// or sqlite://PATH) or a plain SQLite file path. A missing SQLite file and its directory
// are created.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	dialect, target, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	driver, dsn := "pgx", target
	if dialect == DialectSQLite {
		if err := createSQLiteFile(target); err != nil {
			return nil, err
		}
		driver, dsn = "sqlite", target+"?"+sqlitePragmas
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s database: %w", dialect, err)
	}
	configurePool(sqlDB, dialect)
	db := &DB{db: sqlDB, dialect: dialect, now: time.Now}
	for _, opt := range opts {
		opt(db)
	}
	db.q = newQueries(db.Rebind)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connecting to %s database: %w", dialect, err)
	}
	if err := db.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// parseURL returns the dialect of a store URL and its target: the URL itself for
// PostgreSQL, the file path for SQLite.
func parseURL(url string) (dialect, target string, err error) {
	switch {
	case url == "":
		return "", "", errors.New("empty database URL")
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return DialectPostgres, url, nil
	}
	path := url
	if rest, ok := strings.CutPrefix(url, "sqlite:"); ok {
		path = strings.TrimPrefix(rest, "//")
	}
	switch {
	case path == "":
		return "", "", fmt.Errorf("database URL %q has no file path", url)
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		// An in-memory database would differ per pooled connection, and a file: URI
		// would bypass tollgate's pragmas.
		return "", "", fmt.Errorf("database URL %q: only SQLite file paths are supported", url)
	case strings.Contains(path, "?"):
		return "", "", fmt.Errorf("database URL %q: SQLite parameters are set by tollgate", url)
	case strings.Contains(url, "://") && !strings.HasPrefix(url, "sqlite://"):
		// Only the scheme is quoted: the rest may hold a password.
		scheme, _, _ := strings.Cut(url, "://")
		return "", "", fmt.Errorf("database URL scheme %q is not supported", scheme)
	}
	return DialectSQLite, path, nil
}

// createSQLiteFile creates path and its directory if they do not exist, readable by the
// owner only.
func createSQLiteFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating database file: %w", err)
	}
	return f.Close()
}

// configurePool sizes the connection pool. SQLite has one writer at a time and cheap
// connections, so a few per CPU serve concurrent readers; connections are kept forever
// because each holds its page cache. PostgreSQL connections are server processes, so the
// pool is capped and recycled now and then to follow failovers and rebalancing.
func configurePool(db *sql.DB, dialect string) {
	if dialect == DialectSQLite {
		n := max(4, runtime.GOMAXPROCS(0))
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		return
	}
	db.SetMaxOpenConns(25)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
}

// Close closes every connection of the store.
func (db *DB) Close() error {
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("closing database: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging database: %w", err)
	}
	return nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the underlying pool for packages that run their own queries; write them
// with "?" placeholders and pass them through Rebind.
func (db *DB) SQL() *sql.DB { return db.db }
