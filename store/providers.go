package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Provider is an upstream provider defined through the admin API.
type Provider struct {
	Name       string
	Type       string
	BaseURL    string
	APIVersion string
	Region     string
	// Headers are extra upstream headers; never credentials.
	Headers   map[string]string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ProviderKey is one upstream credential of a Provider. Secret is sealed by the vault
// with AAD bound to (provider_keys, ID, secret); the store never sees it in the clear.
type ProviderKey struct {
	ID       string
	Provider string
	Label    string
	Secret   []byte
	// Fingerprint is a short one-way digest of the key, for matching it with logs and
	// provider dashboards; Hint is a display form like "sk-proj-…abcd".
	Fingerprint string
	Hint        string
	Weight      int
	// Status is "active", "draining" (replaced by rotation, used until DrainUntil) or
	// "disabled".
	Status     string
	DrainUntil *time.Time
	ReplacedBy string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const providerColumns = "name, type, base_url, api_version, region, headers, created_by, created_at, updated_at"

const providerKeyColumns = "id, provider, label, secret, fingerprint, hint, weight, status, drain_until, " +
	"replaced_by, created_at, updated_at"

// GetProvider returns the provider named name, or ErrNotFound.
func (db *DB) GetProvider(ctx context.Context, name string) (*Provider, error) {
	p, err := scanProvider(db.db.QueryRowContext(ctx, db.Rebind(`SELECT `+providerColumns+` FROM providers WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("getting provider %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting provider %q: %w", name, err)
	}
	return p, nil
}

// ListProviders returns every stored provider in name order.
func (db *DB) ListProviders(ctx context.Context) ([]*Provider, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+providerColumns+` FROM providers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing providers: %w", err)
	}
	defer rows.Close()
	var out []*Provider
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("listing providers: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ListProviderKeys returns the keys of provider, or of every provider when it is
// empty, oldest first.
func (db *DB) ListProviderKeys(ctx context.Context, provider string) ([]*ProviderKey, error) {
	q, args := `SELECT `+providerKeyColumns+` FROM provider_keys ORDER BY provider, created_at, id`, []any(nil)
	if provider != "" {
		q, args = `SELECT `+providerKeyColumns+` FROM provider_keys WHERE provider = ? ORDER BY created_at, id`, []any{provider}
	}
	rows, err := db.db.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing provider keys: %w", err)
	}
	defer rows.Close()
	var out []*ProviderKey
	for rows.Next() {
		k, err := scanProviderKey(rows)
		if err != nil {
			return nil, fmt.Errorf("listing provider keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// GetProviderKey returns the provider key with id, or ErrNotFound.
func (db *DB) GetProviderKey(ctx context.Context, id string) (*ProviderKey, error) {
	k, err := scanProviderKey(db.db.QueryRowContext(ctx, db.Rebind(`SELECT `+providerKeyColumns+` FROM provider_keys WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("getting provider key %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting provider key %q: %w", id, err)
	}
	return k, nil
}

// CreateProvider inserts p, or returns ErrConflict. Zero times are set from the clock.
func (tx *Tx) CreateProvider(ctx context.Context, p *Provider) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = tx.db.now().UTC()
	}
	p.UpdatedAt = p.CreatedAt
	headers, err := headersText(p.Headers)
	if err != nil {
		return err
	}
	_, err = tx.tx.ExecContext(ctx, tx.db.Rebind(`INSERT INTO providers (`+providerColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), p.Name, p.Type, p.BaseURL, p.APIVersion, p.Region, headers,
		p.CreatedBy, p.CreatedAt.UnixNano(), p.UpdatedAt.UnixNano())
	return wrapWrite(err, "creating provider", p.Name)
}

// UpdateProvider writes p's mutable columns (all but Name, CreatedBy and CreatedAt), or
// returns ErrNotFound.
func (tx *Tx) UpdateProvider(ctx context.Context, p *Provider) error {
	p.UpdatedAt = tx.db.now().UTC()
	headers, err := headersText(p.Headers)
	if err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, tx.db.Rebind(`UPDATE providers SET type = ?, base_url = ?, api_version = ?,
		region = ?, headers = ?, updated_at = ? WHERE name = ?`), p.Type, p.BaseURL, p.APIVersion, p.Region,
		headers, p.UpdatedAt.UnixNano(), p.Name)
	return expectWrite(res, err, "updating provider", p.Name)
}

// DeleteProvider deletes the provider and its keys, or returns ErrNotFound.
func (tx *Tx) DeleteProvider(ctx context.Context, name string) error {
	// Keys are deleted explicitly: SQLite enforces ON DELETE CASCADE only with
	// foreign_keys on, which a tool opening the file may not set.
	if _, err := tx.tx.ExecContext(ctx, tx.db.Rebind(`DELETE FROM provider_keys WHERE provider = ?`), name); err != nil {
		return fmt.Errorf("deleting keys of provider %q: %w", name, err)
	}
	res, err := tx.tx.ExecContext(ctx, tx.db.Rebind(`DELETE FROM providers WHERE name = ?`), name)
	return expectWrite(res, err, "deleting provider", name)
}

// CreateProviderKey inserts k, or returns ErrConflict. Zero times are set from the clock.
func (tx *Tx) CreateProviderKey(ctx context.Context, k *ProviderKey) error {
	if len(k.Secret) == 0 {
		return fmt.Errorf("creating provider key %q: no sealed secret", k.ID)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = tx.db.now().UTC()
	}
	k.UpdatedAt = k.CreatedAt
	drain, err := toNullNanos(k.DrainUntil)
	if err != nil {
		return err
	}
	_, err = tx.tx.ExecContext(ctx, tx.db.Rebind(`INSERT INTO provider_keys (`+providerKeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), k.ID, k.Provider, k.Label, k.Secret, k.Fingerprint,
		k.Hint, k.Weight, k.Status, drain, k.ReplacedBy, k.CreatedAt.UnixNano(), k.UpdatedAt.UnixNano())
	return wrapWrite(err, "creating provider key", k.ID)
}

// UpdateProviderKey writes k's label, weight, status, drain time and successor, or
// returns ErrNotFound. The secret is never rewritten here: a new secret is a new key.
func (tx *Tx) UpdateProviderKey(ctx context.Context, k *ProviderKey) error {
	k.UpdatedAt = tx.db.now().UTC()
	drain, err := toNullNanos(k.DrainUntil)
	if err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, tx.db.Rebind(`UPDATE provider_keys SET label = ?, weight = ?, status = ?,
		drain_until = ?, replaced_by = ?, updated_at = ? WHERE id = ?`), k.Label, k.Weight, k.Status, drain,
		k.ReplacedBy, k.UpdatedAt.UnixNano(), k.ID)
	return expectWrite(res, err, "updating provider key", k.ID)
}

// DeleteProviderKey deletes the provider key with id, or returns ErrNotFound.
func (tx *Tx) DeleteProviderKey(ctx context.Context, id string) error {
	res, err := tx.tx.ExecContext(ctx, tx.db.Rebind(`DELETE FROM provider_keys WHERE id = ?`), id)
	return expectWrite(res, err, "deleting provider key", id)
}

// wrapWrite turns an insert's error into ErrConflict or a wrapped error.
func wrapWrite(err error, what, id string) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("%s %q: %w", what, id, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, id, err)
	}
	return nil
}

// expectWrite turns an update's or delete's result into ErrNotFound or a wrapped error.
func expectWrite(res sql.Result, err error, what, id string) error {
	if err == nil {
		err = expectOneRow(res)
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, id, err)
	}
	return nil
}

func headersText(h map[string]string) (string, error) {
	if len(h) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(h)
	return string(b), err
}

func scanProvider(row rowScanner) (*Provider, error) {
	var p Provider
	var headers string
	var created, updated int64
	err := row.Scan(&p.Name, &p.Type, &p.BaseURL, &p.APIVersion, &p.Region, &headers, &p.CreatedBy, &created, &updated)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(headers), &p.Headers); err != nil {
		return nil, fmt.Errorf("provider %q headers: %w", p.Name, err)
	}
	p.CreatedAt, p.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &p, nil
}

func scanProviderKey(row rowScanner) (*ProviderKey, error) {
	var k ProviderKey
	var created, updated int64
	var drain sql.NullInt64
	err := row.Scan(&k.ID, &k.Provider, &k.Label, &k.Secret, &k.Fingerprint, &k.Hint, &k.Weight, &k.Status,
		&drain, &k.ReplacedBy, &created, &updated)
	if err != nil {
		return nil, err
	}
	k.DrainUntil = fromNullNanos(drain)
	k.CreatedAt, k.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &k, nil
}
