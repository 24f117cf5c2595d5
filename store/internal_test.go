package store

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestDollarPlaceholders(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"none", "SELECT 1", "SELECT 1"},
		{"several", "SELECT a FROM t WHERE b = ? AND c > ? LIMIT ?", "SELECT a FROM t WHERE b = $1 AND c > $2 LIMIT $3"},
		{"string literal", "SELECT '?', ? FROM t", "SELECT '?', $1 FROM t"},
		{"escaped quote", "SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"quoted identifier", `SELECT "a?" FROM t WHERE x = ?`, `SELECT "a?" FROM t WHERE x = $1`},
		{"ten or more", strings.Repeat("?,", 10) + "?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dollarPlaceholders(tt.in); got != tt.want {
				t.Errorf("dollarPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRebindByDialect(t *testing.T) {
	const q = "SELECT x FROM t WHERE a = ? AND b = ?"
	tests := []struct {
		dialect, want string
	}{
		{DialectSQLite, q},
		{DialectPostgres, "SELECT x FROM t WHERE a = $1 AND b = $2"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			db := &DB{dialect: tt.dialect}
			for range 2 { // The second call is served from the cache.
				if got := db.Rebind(q); got != tt.want {
					t.Errorf("Rebind = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, dialect, target string
		wantErr              bool
	}{
		{url: "postgres://u@h:5432/db?sslmode=disable", dialect: "postgres", target: "postgres://u@h:5432/db?sslmode=disable"},
		{url: "postgresql://u@h/db", dialect: "postgres", target: "postgresql://u@h/db"},
		{url: "/var/lib/tollgate/tollgate.db", dialect: "sqlite", target: "/var/lib/tollgate/tollgate.db"},
		{url: "tollgate.db", dialect: "sqlite", target: "tollgate.db"},
		{url: "sqlite:data/tollgate.db", dialect: "sqlite", target: "data/tollgate.db"},
		{url: "sqlite:///abs/tollgate.db", dialect: "sqlite", target: "/abs/tollgate.db"},
		{url: "sqlite://rel/tollgate.db", dialect: "sqlite", target: "rel/tollgate.db"},
		{url: "", wantErr: true},
		{url: "sqlite:", wantErr: true},
		{url: "sqlite://", wantErr: true},
		{url: ":memory:", wantErr: true},
		{url: "sqlite:file:x.db", wantErr: true},
		{url: "sqlite:x.db?_pragma=journal_mode(DELETE)", wantErr: true},
		{url: "mysql://u@h/db", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			dialect, target, err := parseURL(tt.url)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseURL(%q) = %q, %q, want an error", tt.url, dialect, target)
				}
				return
			}
			if err != nil || dialect != tt.dialect || target != tt.target {
				t.Errorf("parseURL(%q) = %q, %q, %v; want %q, %q", tt.url, dialect, target, err, tt.dialect, tt.target)
			}
		})
	}
}

func TestEmbeddedMigrationsMatch(t *testing.T) {
	lite, err := loadMigrations(migrationFS, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(migrationFS, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("got %d sqlite and %d postgres migrations, want the same non-zero number", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].version != pg[i].version || lite[i].name != pg[i].name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s",
				i, lite[i].version, lite[i].name, pg[i].version, pg[i].name)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    string // Versions and names in order, or "" when an error is expected.
		wantErr bool
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("")}, "1a 2b", false},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, "", true},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file("A"), "m/1_b.sql": file("B")}, "", true},
		{"no name", fstest.MapFS{"m/0001.sql": file("A")}, "", true},
		{"not a number", fstest.MapFS{"m/init_a.sql": file("A")}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			migs, err := loadMigrations(tt.files, "m")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("loadMigrations = %v, want an error", migs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range migs {
				got = append(got, fmt.Sprintf("%d%s", m.version, m.name))
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("loadMigrations = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestToNanosRange(t *testing.T) {
	tests := []struct {
		name    string
		t       time.Time
		wantErr bool
	}{
		{"now", time.Date(2025, 6, 1, 12, 0, 0, 1, time.UTC), false},
		{"lowest", time.Unix(0, math.MinInt64), false},
		{"highest", time.Unix(0, math.MaxInt64), false},
		{"year 1", time.Time{}, true},
		{"year 9999", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := toNanos(tt.t)
			if (err != nil) != tt.wantErr {
				t.Fatalf("toNanos(%v) error = %v, want error %v", tt.t, err, tt.wantErr)
			}
			if err == nil && !fromNanos(n).Equal(tt.t) {
				t.Errorf("fromNanos(toNanos(%v)) = %v", tt.t, fromNanos(n))
			}
		})
	}
}

func TestIsUniqueViolation(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("duplicate key value violates unique constraint"), false},
		{"pg unique", fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "23505"}), true},
		{"pg not null", &pgconn.PgError{Code: "23502"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isUniqueViolation(tt.err); got != tt.want {
				t.Errorf("isUniqueViolation(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
