package invalidate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Execer runs a statement; *sql.DB on a PostgreSQL database is one.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Postgres is a bus over PostgreSQL LISTEN/NOTIFY. It listens on a connection of its
// own and notifies through the store's pool.
type Postgres struct {
	peer
	url  string
	db   Execer
	opts Options

	mu      sync.Mutex
	channel string
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewPostgres returns a bus that listens with a connection to url and notifies through
// db. Call Start before Publish.
func NewPostgres(url string, db Execer, o Options) *Postgres {
	o = o.withDefaults("")
	return &Postgres{peer: newPeer(o.Log), url: url, db: db, opts: o}
}

// Start connects and listens, and returns once the LISTEN is in place, so that no
// notification sent afterwards is missed. Notifications are then received on a
// goroutine until ctx is done or Close is called.
func (p *Postgres) Start(ctx context.Context) error {
	conn, channel, err := p.listen(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.mu.Lock()
	p.channel, p.cancel, p.done = channel, cancel, make(chan struct{})
	p.mu.Unlock()
	go p.run(ctx, conn)
	return nil
}

// listen opens the listening connection and names the channel.
func (p *Postgres) listen(ctx context.Context) (*pgx.Conn, string, error) {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return nil, "", fmt.Errorf("connecting to listen for invalidations: %w", err)
	}
	channel := p.opts.Channel
	if channel == "" {
		var schema sql.NullString
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			conn.Close(ctx)
			return nil, "", fmt.Errorf("reading the schema name: %w", err)
		}
		channel = schemaChannel(schema.String)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		conn.Close(ctx)
		return nil, "", fmt.Errorf("listening for invalidations: %w", err)
	}
	return conn, channel, nil
}

// schemaChannel names the channel of a schema, within PostgreSQL's 63-byte limit.
func schemaChannel(schema string) string {
	c := "tollgate_invalidate_" + schema
	if len(c) > 63 {
		sum := sha256.Sum256([]byte(schema))
		c = "tollgate_invalidate_" + hex.EncodeToString(sum[:16])
	}
	return c
}

// Publish delivers the message here, then notifies the other replicas.
func (p *Postgres) Publish(ctx context.Context, topic, id string) error {
	if err := p.Local.Publish(ctx, topic, id); err != nil {
		return err
	}
	p.mu.Lock()
	channel := p.channel
	p.mu.Unlock()
	if channel == "" {
		return fmt.Errorf("publishing invalidation: the bus is not started")
	}
	if _, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, encode(p.origin, topic, id)); err != nil {
		return fmt.Errorf("publishing invalidation: %w", err)
	}
	return nil
}

// run receives notifications, reconnecting after errors, until ctx is done.
func (p *Postgres) run(ctx context.Context, conn *pgx.Conn) {
	defer close(p.done)
	defer p.recovered("postgres")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			p.receive(n.Payload)
			continue
		}
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		p.opts.Log.Warn("postgres invalidation listener lost; reconnecting", "error", err)
		if conn = p.reconnect(ctx); conn == nil {
			return
		}
		p.opts.Log.Info("postgres invalidation listener connected again; reloading")
		p.deliverAll()
	}
}

// reconnect listens again, retrying until it succeeds or ctx is done (then nil).
func (p *Postgres) reconnect(ctx context.Context) *pgx.Conn {
	for {
		sleep(ctx, p.opts.Retry)
		if ctx.Err() != nil {
			return nil
		}
		conn, _, err := p.listen(ctx)
		if err == nil {
			return conn
		}
	}
}

// Close stops listening.
func (p *Postgres) Close() error {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.cancel = nil
	p.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	waitDone(done)
	return nil
}
