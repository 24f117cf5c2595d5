package app

import (
	"errors"

	"github.com/redis/go-redis/v9"
)

// redisClient returns the one Redis client every part of the gateway shares (limits,
// budgets, invalidation, breaker sharing), opened on first use; nil without Redis.
// Calls bound their own time through their contexts.
func (a *App) redisClient() (*redis.Client, error) {
	if a.cfg.RedisURL == "" {
		return nil, nil
	}
	if a.redis != nil {
		return a.redis, nil
	}
	opts, err := redis.ParseURL(a.cfg.RedisURL)
	if err != nil {
		return nil, errors.New("redis_url: not a valid redis:// URL")
	}
	opts.ContextTimeoutEnabled = true
	// Reads end at the earlier of a call's deadline and ReadTimeout: let the rate
	// limiter's own bound apply.
	opts.ReadTimeout = max(opts.ReadTimeout, a.cfg.Limits.RedisTimeout.Std())
	opts.PoolSize = max(opts.PoolSize, 64)
	a.redis = redis.NewClient(opts)
	a.closer = append(a.closer, a.redis.Close)
	return a.redis, nil
}
