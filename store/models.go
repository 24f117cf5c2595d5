package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Model is a model (route) defined through the admin API. Spec is its JSON; the shape
// belongs to the admin package.
type Model struct {
	Name      string
	Spec      []byte
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const modelColumns = "name, spec, created_by, created_at, updated_at"

// CreateModel inserts m, or returns ErrConflict when a model of that name exists. Zero
// CreatedAt and UpdatedAt are set to the clock's time, in m too. Model writes run in a
// WriteTx, so that the audit row describing them commits with them.
func (tx *Tx) CreateModel(ctx context.Context, m *Model) error {
	db := tx.db
	if m.Name == "" || len(m.Spec) == 0 {
		return errors.New("creating model: empty name or spec")
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = db.now().UTC()
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	created, err := toNanos(m.CreatedAt)
	if err != nil {
		return fmt.Errorf("creating model %q: %w", m.Name, err)
	}
	updated, err := toNanos(m.UpdatedAt)
	if err != nil {
		return fmt.Errorf("creating model %q: %w", m.Name, err)
	}
	_, err = tx.tx.ExecContext(ctx, db.Rebind(`INSERT INTO models (`+modelColumns+`) VALUES (?, ?, ?, ?, ?)`),
		m.Name, string(m.Spec), m.CreatedBy, created, updated)
	return wrapWrite(err, "creating model", m.Name)
}

// GetModel returns the model called name, or ErrNotFound.
func (db *DB) GetModel(ctx context.Context, name string) (*Model, error) {
	row := db.db.QueryRowContext(ctx, db.Rebind(`SELECT `+modelColumns+` FROM models WHERE name = ?`), name)
	m, err := scanModel(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("getting model %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting model %q: %w", name, err)
	}
	return m, nil
}

// ListModels returns every stored model, in name order.
func (db *DB) ListModels(ctx context.Context) ([]*Model, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+modelColumns+` FROM models ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing models: %w", err)
	}
	defer rows.Close()
	var out []*Model
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, fmt.Errorf("listing models: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing models: %w", err)
	}
	return out, nil
}

// UpdateModel replaces the spec of the model m.Name and sets its UpdatedAt to the
// clock's time (in m too), or returns ErrNotFound.
func (tx *Tx) UpdateModel(ctx context.Context, m *Model) error {
	if len(m.Spec) == 0 {
		return fmt.Errorf("updating model %q: empty spec", m.Name)
	}
	m.UpdatedAt = tx.db.now().UTC()
	res, err := tx.tx.ExecContext(ctx, tx.db.Rebind(`UPDATE models SET spec = ?, updated_at = ? WHERE name = ?`),
		string(m.Spec), m.UpdatedAt.UnixNano(), m.Name)
	return expectWrite(res, err, "updating model", m.Name)
}

// DeleteModel removes the model called name, or returns ErrNotFound.
func (tx *Tx) DeleteModel(ctx context.Context, name string) error {
	res, err := tx.tx.ExecContext(ctx, tx.db.Rebind(`DELETE FROM models WHERE name = ?`), name)
	return expectWrite(res, err, "deleting model", name)
}

func scanModel(r rowScanner) (*Model, error) {
	var m Model
	var spec string
	var created, updated int64
	if err := r.Scan(&m.Name, &spec, &m.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	m.Spec = []byte(spec)
	m.CreatedAt, m.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &m, nil
}
