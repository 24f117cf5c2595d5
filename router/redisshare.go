package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisShare shares breaker openings across replicas through Redis. When a breaker
// opens, its replica sets the key <prefix>breaker:<id> with a time to live of the open
// period and publishes the opening on <prefix>breakers; when it closes, the replica
// deletes the key and publishes the closing. Every replica subscribes and keeps what it
// hears in memory, so the request path makes no Redis round trip. On (re)subscribing a
// replica reads the keys, so it also knows the openings announced while it was away.
type RedisShare struct {
	rdb     redis.UniversalClient
	prefix  string
	replica string
	log     *slog.Logger
	out     chan announcement
	// Dropped counts announcements lost because the queue was full.
	dropped atomic.Int64
}

var _ Share = (*RedisShare)(nil)

type announcement struct {
	ID      string `json:"id"`
	Open    bool   `json:"open"`
	TTLMS   int64  `json:"ttl_ms,omitempty"`
	Replica string `json:"replica"`
}

// NewRedisShare returns a share over rdb whose keys and channel start with prefix.
func NewRedisShare(rdb redis.UniversalClient, prefix string, log *slog.Logger) *RedisShare {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	rand.Read(b[:])
	return &RedisShare{rdb: rdb, prefix: prefix, replica: hex.EncodeToString(b[:]), log: log,
		out: make(chan announcement, 1024)}
}

// Announce queues an opening or closing for publication; it never blocks.
func (s *RedisShare) Announce(id string, open bool, d time.Duration) {
	select {
	case s.out <- announcement{ID: id, Open: open, TTLMS: d.Milliseconds(), Replica: s.replica}:
	default:
		s.dropped.Add(1)
	}
}

// Dropped returns how many announcements were lost to a full queue.
func (s *RedisShare) Dropped() int64 { return s.dropped.Load() }

func (s *RedisShare) key(id string) string { return s.prefix + "breaker:" + id }
func (s *RedisShare) channel() string      { return s.prefix + "breakers" }

// Run publishes this replica's announcements and applies the others' to r until ctx
// is done.
func (s *RedisShare) Run(ctx context.Context, r Remote) {
	var wg sync.WaitGroup
	wg.Go(func() { s.guard("publishing breaker state", func() { s.publish(ctx) }) })
	s.guard("subscribing to breaker state", func() { s.subscribe(ctx, r) })
	wg.Wait()
}

// guard runs fn, logging a panic instead of crashing the process.
func (s *RedisShare) guard(what string, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic "+what, "panic", fmt.Sprint(p))
		}
	}()
	fn()
}

func (s *RedisShare) publish(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-s.out:
			if err := s.send(ctx, a); err != nil && ctx.Err() == nil {
				s.log.Warn("sharing breaker state through redis failed", "breaker", a.ID, "error", err)
			}
		}
	}
}

func (s *RedisShare) send(ctx context.Context, a announcement) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	msg, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if a.Open {
			p.Set(ctx, s.key(a.ID), s.replica, time.Duration(a.TTLMS)*time.Millisecond)
		} else {
			p.Del(ctx, s.key(a.ID))
		}
		p.Publish(ctx, s.channel(), msg)
		return nil
	})
	return err
}

// sharePing is how long a quiet subscription waits before it pings Redis, so that a
// dead connection is noticed and replaced.
const sharePing = 30 * time.Second

func (s *RedisShare) subscribe(ctx context.Context, r Remote) {
	ps := s.rdb.Subscribe(ctx, s.channel())
	defer ps.Close()
	// A blocked receive does not watch ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	failing := false
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, sharePing)
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			return
		case errors.As(err, &ne) && ne.Timeout():
			_ = ps.Ping(ctx) // a failed ping makes the next receive reconnect
			continue
		case err != nil:
			if !failing {
				s.log.Warn("breaker state subscription lost; reconnecting", "error", err)
			}
			failing = true
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		failing = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" { // the first time, and after every reconnection
				s.load(ctx, r)
			}
		case *redis.Message:
			s.apply(r, m.Payload)
		}
	}
}

func (s *RedisShare) apply(r Remote, payload string) {
	var a announcement
	if err := json.Unmarshal([]byte(payload), &a); err != nil || a.Replica == s.replica {
		return
	}
	if a.Open {
		r.RemoteOpen(a.ID, time.Duration(a.TTLMS)*time.Millisecond)
	} else {
		r.RemoteClose(a.ID)
	}
}

// load applies the openings still current in Redis, announced while this replica was
// not listening.
func (s *RedisShare) load(ctx context.Context, r Remote) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	iter := s.rdb.Scan(ctx, 0, s.key("*"), 256).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		ttl, err := s.rdb.PTTL(ctx, k).Result()
		owner, gerr := s.rdb.Get(ctx, k).Result()
		if err != nil || gerr != nil || ttl <= 0 || owner == s.replica {
			continue
		}
		r.RemoteOpen(strings.TrimPrefix(k, s.key("")), ttl)
	}
	if err := iter.Err(); err != nil {
		s.log.Warn("reading shared breaker state failed", "error", err)
	}
}
