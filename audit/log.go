package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/store"
)

// Genesis is the prev_hash of the first row.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// KeySize is the length of the chain key.
const KeySize = 32

// Store is the part of the store the log needs.
type Store interface {
	WriteTx(ctx context.Context, fn func(tx *store.Tx) error) error
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRow, error)
	EachAudit(ctx context.Context, fn func(store.AuditRow) error) error
}

var _ Store = (*store.DB)(nil)

// Log appends events to the hash-chained audit log and verifies the chain.
type Log struct {
	db  Store
	key []byte
	now func() time.Time
	log *slog.Logger
	// sub hears about every committed row (Subscribe); nil when none.
	sub atomic.Pointer[func(Entry)]
}

// Option changes a Log.
type Option func(*Log)

// WithClock makes the log read the time from now; tests use it.
func WithClock(now func() time.Time) Option { return func(l *Log) { l.now = now } }

// WithLogger makes the log write each appended row's seq and hash to lg, an anchor
// outside the database against which a truncated tail can be found.
func WithLogger(lg *slog.Logger) Option { return func(l *Log) { l.log = lg } }

// New returns a log over db whose chain is keyed by key (KeySize bytes, kept secret:
// the app seals it in the vault).
func New(db Store, key []byte, opts ...Option) (*Log, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("audit: chain key must be %d bytes, got %d", KeySize, len(key))
	}
	l := &Log{db: db, key: append([]byte(nil), key...), now: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l, nil
}

// Subscribe makes fn hear about every row appended from now on, once its transaction
// has committed; the request log export uses it. fn runs on the appending goroutine
// and must not block. A later call replaces fn.
func (l *Log) Subscribe(fn func(Entry)) { l.sub.Store(&fn) }

// Record appends e to the chain. When the row cannot be written it returns an error, and
// the caller's action must fail with it.
func (l *Log) Record(ctx context.Context, e Event) error {
	if l == nil {
		return errors.New("audit: no audit log is configured")
	}
	return l.db.WriteTx(ctx, func(tx *store.Tx) error { return l.RecordTx(ctx, tx, e) })
}

// RecordTx appends e inside tx, so that the change it records and the row commit
// together: when either fails, neither happens.
func (l *Log) RecordTx(ctx context.Context, tx *store.Tx, e Event) error {
	if l == nil {
		return errors.New("audit: no audit log is configured")
	}
	if e.Action == "" {
		return errors.New("audit: event without an action")
	}
	details, err := encodeDetails(e.Details)
	if err != nil {
		return err
	}
	at := e.Time
	if at.IsZero() {
		at = l.now()
	}
	err = tx.AppendAudit(ctx, func(last *store.AuditRow) (*store.AuditRow, error) {
		r := &store.AuditRow{Seq: 1, PrevHash: Genesis, Time: at.UTC(), ActorID: e.Actor.ID,
			ActorName: e.Actor.Name, SourceIP: e.Actor.SourceIP, RequestID: e.Actor.RequestID,
			Action: e.Action, Target: e.Target, Details: details}
		if last != nil {
			r.Seq, r.PrevHash = last.Seq+1, last.Hash
		}
		r.Hash = l.hash(r)
		if l.log != nil {
			tx.AfterCommit(func() {
				l.log.Info("audit", "seq", r.Seq, "action", r.Action, "target", r.Target, "actor", r.ActorID, "hash", r.Hash)
			})
		}
		if sub := l.sub.Load(); sub != nil {
			tx.AfterCommit(func() { (*sub)(entry(*r)) })
		}
		return r, nil
	})
	if err != nil {
		return fmt.Errorf("audit: recording %s: %w", e.Action, err)
	}
	return nil
}

// encodeDetails returns details as a JSON object with sorted keys.
func encodeDetails(d map[string]any) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("audit: encoding details: %w", err)
	}
	return string(b), nil
}

// hash returns the row's HMAC-SHA256 under the chain key, in hex, over a canonical
// encoding of every column but hash itself.
func (l *Log) hash(r *store.AuditRow) string {
	mac := hmac.New(sha256.New, l.key)
	mac.Write(canonical(r))
	return hex.EncodeToString(mac.Sum(nil))
}

// canonical encodes a row unambiguously: a version tag, seq and time as 8 bytes each,
// then every text column with a 4-byte length prefix.
func canonical(r *store.AuditRow) []byte {
	b := []byte("tollgate audit v1\x00")
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixNano()))
	for _, s := range []string{r.ActorID, r.ActorName, r.SourceIP, r.RequestID, r.Action,
		r.Target, r.Details, r.PrevHash} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// Filter selects rows in List.
type Filter struct {
	From, To time.Time
	// Actor matches an actor id or name.
	Actor string
	// Action matches exactly, or as a prefix when it ends in "*".
	Action string
	// Cursor is the next_cursor of the previous page, empty for the first.
	Cursor string
	// Limit is the page size: 100 by default, at most 1000.
	Limit int
}

// Entry is one audit row as the admin API shows it.
type Entry struct {
	Seq       int64          `json:"seq"`
	Time      time.Time      `json:"time"`
	ActorID   string         `json:"actor_id"`
	ActorName string         `json:"actor_name,omitempty"`
	SourceIP  string         `json:"source_ip,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Action    string         `json:"action"`
	Target    string         `json:"target,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
	PrevHash  string         `json:"prev_hash"`
	Hash      string         `json:"hash"`
}

// Page is one page of List, newest first.
type Page struct {
	Data       []Entry `json:"data"`
	NextCursor string  `json:"next_cursor"`
}

// ErrBadCursor is returned for a cursor List did not make.
var ErrBadCursor = errors.New("audit: invalid cursor")

// List returns one page of rows matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	sf := store.AuditFilter{From: f.From, To: f.To, Actor: f.Actor, Action: f.Action, Limit: f.Limit + 1}
	if f.Cursor != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(f.Cursor, "seq_"), 10, 64)
		if err != nil || n <= 0 {
			return Page{}, ErrBadCursor
		}
		sf.Before = n
	}
	rows, err := l.db.ListAudit(ctx, sf)
	if err != nil {
		return Page{}, err
	}
	p := Page{Data: make([]Entry, 0, len(rows))}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		p.NextCursor = fmt.Sprintf("seq_%d", rows[f.Limit-1].Seq)
	}
	for _, r := range rows {
		p.Data = append(p.Data, entry(r))
	}
	return p, nil
}

func entry(r store.AuditRow) Entry {
	e := Entry{Seq: r.Seq, Time: r.Time, ActorID: r.ActorID, ActorName: r.ActorName, SourceIP: r.SourceIP,
		RequestID: r.RequestID, Action: r.Action, Target: r.Target, PrevHash: r.PrevHash, Hash: r.Hash}
	if r.Details != "{}" && r.Details != "" {
		_ = json.Unmarshal([]byte(r.Details), &e.Details) // A row edited into bad JSON still lists.
	}
	return e
}
