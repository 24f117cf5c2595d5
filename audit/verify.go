package audit

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"

	"github.com/tollgate-llm/tollgate/store"
)

// Problems a verification can find at the first broken row.
const (
	// ProblemEdited: the row's columns do not match its hash (edited, or moved to
	// another seq).
	ProblemEdited = "edited"
	// ProblemMissing: the row with this seq is gone (deleted).
	ProblemMissing = "missing"
	// ProblemUnlinked: the row's prev_hash is not the hash of the row before it
	// (reordered, inserted, or its predecessor was replaced).
	ProblemUnlinked = "unlinked"
)

// Result is the outcome of Verify.
type Result struct {
	// OK is true when every row is intact and linked.
	OK bool `json:"ok"`
	// Rows is the number of rows checked, up to and including a broken one.
	Rows int64 `json:"rows"`
	// LastSeq and LastHash are the chain head when OK; compare them with the head logged
	// at append time to find a truncated tail.
	LastSeq  int64  `json:"last_seq"`
	LastHash string `json:"last_hash,omitempty"`
	// Broken names the first broken row, nil when OK.
	Broken *Break `json:"broken,omitempty"`
}

// Break describes the first broken row.
type Break struct {
	Seq     int64  `json:"seq"`
	Problem string `json:"problem"`
	Message string `json:"message"`
}

// errStop ends the walk at the first break.
var errStop = errors.New("stop")

// Verify walks the chain in seq order and reports the first row that was edited,
// deleted, reordered or inserted. A chain keyed by a secret cannot be rewritten
// consistently without that key.
func (l *Log) Verify(ctx context.Context) (Result, error) {
	res := Result{OK: true}
	wantSeq, wantPrev := int64(1), Genesis
	err := l.db.EachAudit(ctx, func(r store.AuditRow) error {
		res.Rows++
		if b := l.check(&r, wantSeq, wantPrev); b != nil {
			res.OK, res.Broken = false, b
			return errStop
		}
		wantSeq, wantPrev = r.Seq+1, r.Hash
		res.LastSeq, res.LastHash = r.Seq, r.Hash
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Result{}, fmt.Errorf("audit: verifying: %w", err)
	}
	return res, nil
}

// check returns the break at r, given the seq and prev_hash the chain expects there.
func (l *Log) check(r *store.AuditRow, wantSeq int64, wantPrev string) *Break {
	switch {
	case r.Seq > wantSeq:
		return &Break{Seq: wantSeq, Problem: ProblemMissing,
			Message: fmt.Sprintf("row %d is missing: the chain jumps from %d to %d", wantSeq, wantSeq-1, r.Seq)}
	case !hmac.Equal([]byte(l.hash(r)), []byte(r.Hash)):
		return &Break{Seq: r.Seq, Problem: ProblemEdited,
			Message: fmt.Sprintf("row %d does not match its hash: it was edited or moved", r.Seq)}
	case r.PrevHash != wantPrev:
		return &Break{Seq: r.Seq, Problem: ProblemUnlinked,
			Message: fmt.Sprintf("row %d does not follow row %d: rows were reordered, inserted or replaced", r.Seq, r.Seq-1)}
	}
	return nil
}
