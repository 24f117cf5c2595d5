package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// projectColumns lists the projects columns in the order scanProject reads them.
const projectColumns = "name, settings, created_by, created_at, updated_at"

// CreateProject inserts p, or returns ErrConflict if a project with its name exists. Zero
// times are set from the clock, in p too.
func (db *DB) CreateProject(ctx context.Context, p *Project) error {
	if p.Name == "" {
		return errors.New("creating project: empty name")
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now().UTC()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	created, err := toNanos(p.CreatedAt)
	if err != nil {
		return fmt.Errorf("creating project %q: %w", p.Name, err)
	}
	updated, err := toNanos(p.UpdatedAt)
	if err != nil {
		return fmt.Errorf("creating project %q: %w", p.Name, err)
	}
	_, err = db.db.ExecContext(ctx, db.Rebind(`INSERT INTO projects (`+projectColumns+`)
		VALUES (?, ?, ?, ?, ?)`), p.Name, settingsText(p.Settings), p.CreatedBy, created, updated)
	if isUniqueViolation(err) {
		return fmt.Errorf("creating project %q: %w", p.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("creating project %q: %w", p.Name, err)
	}
	return nil
}

// GetProject returns the project with name, or ErrNotFound.
func (db *DB) GetProject(ctx context.Context, name string) (*Project, error) {
	row := db.db.QueryRowContext(ctx, db.Rebind(`SELECT `+projectColumns+` FROM projects WHERE name = ?`), name)
	p, err := scanProject(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("getting project %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting project %q: %w", name, err)
	}
	return p, nil
}

// ListProjects returns up to limit projects (zero: all) with names after the cursor
// after, in name order.
func (db *DB) ListProjects(ctx context.Context, after string, limit int) ([]*Project, error) {
	query := `SELECT ` + projectColumns + ` FROM projects WHERE name > ? ORDER BY name`
	args := []any{after}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := db.db.QueryContext(ctx, db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing projects: %w", err)
	}
	defer rows.Close()
	var out []*Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("listing projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing projects: %w", err)
	}
	return out, nil
}

// UpdateProject writes p's settings, or returns ErrNotFound. It sets p.UpdatedAt to the
// clock's time.
func (db *DB) UpdateProject(ctx context.Context, p *Project) error {
	updated := db.now().UTC()
	res, err := db.db.ExecContext(ctx, db.Rebind(`UPDATE projects SET settings = ?, updated_at = ?
		WHERE name = ?`), settingsText(p.Settings), updated.UnixNano(), p.Name)
	if err != nil {
		return fmt.Errorf("updating project %q: %w", p.Name, err)
	}
	if err := expectOneRow(res); err != nil {
		return fmt.Errorf("updating project %q: %w", p.Name, err)
	}
	p.UpdatedAt = updated
	return nil
}

// DeleteProject deletes the project with name unless a key that is active or disabled
// still belongs to it (ErrConflict), in one statement so that no key can slip in
// between the check and the delete. A missing project is ErrNotFound.
func (db *DB) DeleteProject(ctx context.Context, name string) error {
	res, err := db.db.ExecContext(ctx, db.Rebind(`DELETE FROM projects WHERE name = ? AND NOT EXISTS
		(SELECT 1 FROM keys WHERE project = ? AND status IN ('active', 'disabled'))`), name, name)
	if err != nil {
		return fmt.Errorf("deleting project %q: %w", name, err)
	}
	if err := expectOneRow(res); err == nil {
		return nil
	}
	if _, err := db.GetProject(ctx, name); err != nil {
		return fmt.Errorf("deleting project: %w", err)
	}
	return fmt.Errorf("deleting project %q: keys still belong to it: %w", name, ErrConflict)
}

// scanProject reads one row of projectColumns.
func scanProject(row rowScanner) (*Project, error) {
	var p Project
	var settings string
	var created, updated int64
	if err := row.Scan(&p.Name, &settings, &p.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	p.Settings = []byte(settings)
	p.CreatedAt, p.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &p, nil
}
