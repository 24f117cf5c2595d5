package invalidate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a remote bus.
type Options struct {
	// Log receives connection trouble and subscriber panics; nil means slog.Default().
	Log *slog.Logger
	// Channel is the Redis or PostgreSQL channel. The default is
	// "tollgate:invalidate" on Redis and "tollgate_invalidate_<schema>" on PostgreSQL,
	// so that databases sharing a server do not hear each other.
	Channel string
	// Retry is the wait before reconnecting after an error; default 500ms.
	Retry time.Duration
}

func (o Options) withDefaults(channel string) Options {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Channel == "" {
		o.Channel = channel
	}
	if o.Retry <= 0 {
		o.Retry = 500 * time.Millisecond
	}
	return o
}

// redisPing is how long the Redis subscriber waits for a message before it pings, so
// that a dead connection is noticed and replaced.
const redisPing = 15 * time.Second

// Redis is a bus over one Redis pub/sub channel.
type Redis struct {
	peer
	client *redis.Client
	opts   Options

	mu     sync.Mutex
	ps     *redis.PubSub
	cancel context.CancelFunc
	done   chan struct{}
}

// NewRedis returns a bus over client. Call Start before relying on messages from other
// replicas, and Close when done.
func NewRedis(client *redis.Client, o Options) *Redis {
	o = o.withDefaults("tollgate:invalidate")
	return &Redis{peer: newPeer(o.Log), client: client, opts: o}
}

// newOrigin returns a random tag for the messages of one bus.
func newOrigin() string {
	var b [8]byte
	rand.Read(b[:]) // Never fails; see crypto/rand.Read.
	return hex.EncodeToString(b[:])
}

// Start subscribes and returns once Redis has confirmed the subscription, so that no
// message published afterwards is missed. Messages are then received on a goroutine
// until ctx is done or Close is called.
func (r *Redis) Start(ctx context.Context) error {
	ps := r.client.Subscribe(ctx, r.opts.Channel)
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return fmt.Errorf("subscribing to redis channel %s: %w", r.opts.Channel, err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.mu.Lock()
	r.ps, r.cancel, r.done = ps, cancel, make(chan struct{})
	r.mu.Unlock()
	go r.run(ctx, ps)
	return nil
}

// Publish delivers the message here, then to the other replicas.
func (r *Redis) Publish(ctx context.Context, topic, id string) error {
	if err := r.Local.Publish(ctx, topic, id); err != nil {
		return err
	}
	if err := r.client.Publish(ctx, r.opts.Channel, encode(r.origin, topic, id)).Err(); err != nil {
		return fmt.Errorf("publishing invalidation: %w", err)
	}
	return nil
}

// run receives messages until ctx is done.
func (r *Redis) run(ctx context.Context, ps *redis.PubSub) {
	defer close(r.done)
	defer r.recovered("redis")
	failing := false
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, redisPing)
		switch {
		case ctx.Err() != nil:
			return
		case isTimeout(err):
			_ = ps.Ping(ctx) // A failed ping makes the next receive reconnect.
			continue
		case err != nil:
			if !failing {
				r.opts.Log.Warn("redis invalidation channel lost; reconnecting", "error", err)
			}
			failing = true
			sleep(ctx, r.opts.Retry)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// A confirmation after the first one means go-redis reconnected: messages
			// sent meanwhile are lost, so everything may have changed.
			if m.Kind == "subscribe" {
				r.opts.Log.Info("redis invalidation channel subscribed again; reloading")
				failing = false
				r.deliverAll()
			}
		case *redis.Message:
			r.receive(m.Payload)
		}
	}
}

// Close stops receiving.
func (r *Redis) Close() error {
	r.mu.Lock()
	ps, cancel, done := r.ps, r.cancel, r.done
	r.ps = nil
	r.mu.Unlock()
	if ps == nil {
		return nil
	}
	cancel()
	err := ps.Close()
	waitDone(done)
	return err
}

// closeWait bounds how long Close waits for the receiving goroutine, which a stuck
// network read could otherwise hold forever.
const closeWait = 5 * time.Second

func waitDone(done <-chan struct{}) {
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
