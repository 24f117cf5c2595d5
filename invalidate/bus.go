// Package invalidate tells every replica of tollgate that something it caches has
// changed, so that keys, routes and credentials can be served from memory and still
// change everywhere at once.
//
// A Bus carries (topic, id) messages: a topic names a kind of cached thing ("keys",
// "models") and id the thing that changed. Publish delivers a message to the
// subscribers in this process at once, before it returns, and then to the other
// replicas. Three backends share that contract:
//
//   - Local: in-process only, for a single replica (SQLite).
//   - Redis: one pub/sub channel, used when TOLLGATE_REDIS_URL is set.
//   - Postgres: LISTEN/NOTIFY on one channel per schema, used when only PostgreSQL is
//     shared.
//
// Messages are not stored, so a replica that loses its connection may miss some. When
// a remote backend (re)subscribes after losing its connection, it delivers All to every
// subscriber: "anything of this topic may have changed; reload". Subscribers run one
// at a time on the backend's receiving goroutine, in the order messages arrive; a
// panicking subscriber is logged and the others still run.
//
// A message a replica publishes comes back to it from Redis or PostgreSQL; each bus
// tags its messages with a random origin and skips its own, since they were already
// delivered locally.
package invalidate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// All is the id delivered when a subscriber must assume that anything of its topic may
// have changed.
const All = "*"

// Bus publishes and delivers change messages.
type Bus interface {
	// Publish tells every subscriber of topic, in this process and on every replica,
	// that id changed.
	Publish(ctx context.Context, topic, id string) error
	// Subscribe calls fn with the id of every message on topic until the returned
	// function is called.
	Subscribe(topic string, fn func(id string)) (unsubscribe func())
}

var (
	_ Bus = (*Local)(nil)
	_ Bus = (*Redis)(nil)
	_ Bus = (*Postgres)(nil)
)

// subscription is one Subscribe call; its pointer identity lets unsubscribe find it.
type subscription struct {
	fn func(id string)
}

// Local is an in-process bus. Its zero value is not usable; call NewLocal.
type Local struct {
	log  *slog.Logger
	mu   sync.RWMutex
	subs map[string][]*subscription
}

// NewLocal returns an in-process bus that logs subscriber panics to log (nil: the
// default logger).
func NewLocal(log *slog.Logger) *Local {
	if log == nil {
		log = slog.Default()
	}
	return &Local{log: log, subs: map[string][]*subscription{}}
}

// Publish delivers the message to this process's subscribers before it returns.
func (l *Local) Publish(_ context.Context, topic, id string) error {
	if err := checkMessage(topic, id); err != nil {
		return err
	}
	l.deliver(topic, id)
	return nil
}

// Subscribe registers fn for topic.
func (l *Local) Subscribe(topic string, fn func(id string)) func() {
	s := &subscription{fn: fn}
	l.mu.Lock()
	l.subs[topic] = append(l.subs[topic], s)
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		list := l.subs[topic]
		for i, x := range list {
			if x == s {
				l.subs[topic] = append(list[:i:i], list[i+1:]...)
				return
			}
		}
	}
}

// deliver calls every subscriber of topic with id.
func (l *Local) deliver(topic, id string) {
	l.mu.RLock()
	list := l.subs[topic]
	l.mu.RUnlock()
	for _, s := range list {
		l.call(s, topic, id)
	}
}

// deliverAll tells every subscriber of every topic that anything may have changed.
func (l *Local) deliverAll() {
	l.mu.RLock()
	topics := make([]string, 0, len(l.subs))
	for t := range l.subs {
		topics = append(topics, t)
	}
	l.mu.RUnlock()
	for _, t := range topics {
		l.deliver(t, All)
	}
}

func (l *Local) call(s *subscription, topic, id string) {
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("invalidation subscriber panicked", "topic", topic, "panic", fmt.Sprint(r))
		}
	}()
	s.fn(id)
}

// checkMessage rejects messages the wire format cannot carry.
func checkMessage(topic, id string) error {
	switch {
	case topic == "" || strings.ContainsAny(topic, "\n"):
		return errors.New("invalidate: a topic must be non-empty and on one line")
	case id == "":
		return errors.New("invalidate: empty id")
	}
	return nil
}

// peer is what the remote buses share: delivery in this process, and the origin tag
// that lets a bus skip its own messages when they come back.
type peer struct {
	*Local
	origin string
}

func newPeer(log *slog.Logger) peer { return peer{Local: NewLocal(log), origin: newOrigin()} }

// receive delivers a message from another replica.
func (p peer) receive(payload string) {
	origin, topic, id, ok := decode(payload)
	if ok && origin != p.origin {
		p.deliver(topic, id)
	}
}

// recovered logs a panic of a receiving goroutine; defer it.
func (p peer) recovered(backend string) {
	if v := recover(); v != nil {
		p.log.Error(backend+" invalidation receiver panicked", "panic", fmt.Sprint(v))
	}
}

// encode and decode are the remote wire format: origin, topic and id on three lines.
func encode(origin, topic, id string) string { return origin + "\n" + topic + "\n" + id }

func decode(payload string) (origin, topic, id string, ok bool) {
	parts := strings.SplitN(payload, "\n", 3)
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}
