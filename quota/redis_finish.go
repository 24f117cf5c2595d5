package quota

import (
	"context"
	"fmt"
	"maps"
)

// Settle implements Limiter.
func (r *Redis) Settle(ctx context.Context, d *Decision, actualTokens int64) error {
	return finishDecision(ctx, d, actualTokens, true, false, false)
}

// Release implements Limiter.
func (r *Redis) Release(ctx context.Context, d *Decision) error {
	return finishDecision(ctx, d, 0, false, true, false)
}

// Finish implements Limiter.
func (r *Redis) Finish(ctx context.Context, d *Decision, actualTokens int64) error {
	return r.FinishWith(ctx, d, actualTokens, nil)
}

// Cancel implements Limiter.
func (r *Redis) Cancel(ctx context.Context, d *Decision) error {
	return finishDecision(ctx, d, 0, true, true, true)
}

// FinishWith is Finish with rider sent in the same round trip as the finish script, when
// the decision has something to finish in Redis; otherwise rider is left to make its own
// call. A decision taken in process during an outage is finished in process.
func (r *Redis) FinishWith(ctx context.Context, d *Decision, actualTokens int64, rider Rider) error {
	op, ok := d.claim(actualTokens, true, true, false)
	if !ok {
		return nil
	}
	var err error
	if d.owner == finisher(r) {
		err = r.finishWith(ctx, d, op, rider)
	} else {
		err = d.owner.finish(ctx, d, op)
	}
	if err != nil {
		d.unclaim(op)
	}
	return err
}

// finish runs the finish script for a decision taken through Redis. It ignores the
// cancellation of ctx.
func (r *Redis) finish(ctx context.Context, d *Decision, op finishOp) error {
	return r.finishWith(ctx, d, op, nil)
}

func (r *Redis) finishWith(ctx context.Context, d *Decision, op finishOp, rider Rider) error {
	var keys []string
	for _, s := range d.scopes {
		if op.settle && s.TPM > 0 {
			keys = append(keys, r.key(s.Scope, tokensKind))
		}
	}
	nsettle := len(keys)
	for _, s := range d.scopes {
		if op.refund && s.RPM > 0 {
			keys = append(keys, r.key(s.Scope, requestsKind))
		}
	}
	nrefund := len(keys) - nsettle
	var slots []string
	if op.release {
		slots = r.unhold(d)
		keys = append(keys, slots...)
	}
	if len(keys) == 0 {
		return nil
	}
	// A request's context is often cancelled by the time it is settled (the client went
	// away); the accounting must happen anyway.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Timeout)
	defer cancel()
	args := []any{nsettle, d.bucket, op.delta, d.slot, nrefund}
	if r.scriptNow != nil {
		args = append(args, r.scriptNow().UnixMilli())
	}
	if err := r.run(ctx, finishScript, keys, args, rider).Err(); err != nil {
		r.health.failed(err, false)
		r.orphan(d.slot, slots)
		return fmt.Errorf("redis settle/release: %w", err)
	}
	return nil
}

// orphan records a slot whose release failed, for releaseOrphans.
func (r *Redis) orphan(member string, zsets []string) {
	if len(zsets) == 0 {
		return
	}
	r.mu.Lock()
	r.orphans[member] = zsets
	r.mu.Unlock()
}

// releaseOrphans frees the slots whose release failed during an outage. Until it does,
// they count against max_parallel in Redis although their requests have ended.
func (r *Redis) releaseOrphans(ctx context.Context) {
	r.mu.Lock()
	if len(r.orphans) == 0 {
		r.mu.Unlock()
		return
	}
	orphans := maps.Clone(r.orphans)
	r.mu.Unlock()
	for member, zsets := range orphans {
		cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		err := finishScript.Run(cctx, r.rdb, zsets, 0, 0, 0, member, 0).Err()
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.health.failed(err, false)
			}
			return
		}
		r.mu.Lock()
		delete(r.orphans, member)
		r.mu.Unlock()
	}
}

// hold records a slot this replica holds, for Run to keep alive.
func (r *Redis) hold(d *Decision) {
	if d.slot == "" {
		return
	}
	var keys []string
	for _, s := range d.scopes {
		if s.MaxParallel > 0 {
			keys = append(keys, r.key(s.Scope, "c"))
		}
	}
	r.mu.Lock()
	r.live[d.slot] = keys
	r.mu.Unlock()
}

// unhold forgets a held slot and returns its zsets. It forgets even when the release
// then fails, so that the slot expires by itself instead of being kept alive.
func (r *Redis) unhold(d *Decision) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := r.live[d.slot]
	delete(r.live, d.slot)
	return keys
}
