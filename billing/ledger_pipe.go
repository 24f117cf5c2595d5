package billing

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// The ledger's calls can share a round trip with another component's (the Redis rate
// limiter's): queueReserve and queueSettle put a reservation's script on that
// component's pipeline when the counters live in the same Redis, and hold and
// settleClaimed read its reply once the pipeline has run. In process, or on another
// Redis, they queue nothing and the ledger makes its own calls.

// queueReserve queues res's reserve script on pipe, a pipeline of client, and returns
// its command; nil when the counters are not in client's Redis or res holds nothing.
func (l *Ledger) queueReserve(ctx context.Context, res *Reservation, client redis.Scripter, pipe redis.Pipeliner) *redis.Cmd {
	rc, ok := l.counters.(*redisCounters)
	if !ok || len(res.windows) == 0 || !rc.on(client) {
		return nil
	}
	return rc.queueReserve(ctx, pipe, res)
}

// queueSettle queues the settle script of a claimed reservation on pipe, like
// queueReserve.
func (l *Ledger) queueSettle(ctx context.Context, res *Reservation, actual Money, client redis.Scripter, pipe redis.Pipeliner) *redis.Cmd {
	rc, ok := l.counters.(*redisCounters)
	if !ok || !rc.on(client) {
		return nil
	}
	return rc.queueSettle(ctx, pipe, res, max(actual, 0))
}

// drop gives back what a reserve script sent in a pipeline (cmd) holds, for a request
// refused by its rate limits in the same round trip. A script that refused, found
// unseeded counters or failed holds nothing, and costs no further call.
func (l *Ledger) drop(ctx context.Context, res *Reservation, cmd *redis.Cmd) error {
	if cmd == nil || !held(cmd) {
		return nil
	}
	return l.Release(context.WithoutCancel(ctx), res)
}
