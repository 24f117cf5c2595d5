// Package router picks a provider deployment for each request and runs the attempts:
// model → targets → provider key, with circuit breakers, retries, fallback models,
// provider key health and timeouts. The routing table is swapped atomically, so routes
// change without a restart and without locks on the request path.
//
// # Targets and selection
//
// A model (Route) is a list of targets: a deployment (a configured provider and its
// keys) and the upstream model name, with a weight and a priority. Each attempt picks
// one healthy target with the model's Selector:
//
//   - weighted (the default): weighted random, each target chosen with probability
//     weight/total. It needs no shared state, so it takes no lock and replicas need no
//     coordination; over many requests it converges on the same shares as nginx's
//     smooth weighted round robin.
//   - round_robin: the healthy targets in turn, from one atomic counter per model.
//   - least_latency: power of two choices over the EWMA of each target's time to first
//     byte (to first chunk for streams, to the whole answer otherwise): two random
//     targets, the faster one wins, so the fastest is preferred without every request
//     herding onto it. A target without a sample yet counts as fastest, so it gets
//     measured.
//   - least_busy: the fewest attempts in flight from this replica; ties at random.
//   - lowest_cost: the lowest input plus output price per million tokens, ties by
//     weight. The price is the target's Price (the app sets it from billing's catalog
//     with the model's and the target's pricing overrides applied), else what
//     Options.Prices says; a target without a known price comes last.
//   - priority: the lowest priority number among healthy targets, ties by weight; the
//     next number only when none of those is healthy.
//
// Randomness comes from Options.Rand when set (tests), else math/rand/v2's lock-free
// global source.
//
// # Health
//
// Every target, and every provider key, has a circuit breaker (sony/gobreaker). It
// opens after Breaker.ConsecutiveFailures failures in a row, or when at least
// Breaker.MinRequests requests in the rolling Breaker.Window failed at
// Breaker.FailureRatio or more. After Breaker.OpenTimeout it lets Breaker.Probes
// requests through (half-open) and closes when they succeed. Counted failures are 5xx,
// 408, timeouts, connection errors and 429. Client errors (400, 404, 413, 422, ...) and
// client cancellations are not counted. A target's breaker counts them all; a key's
// breaker counts only what is the key's doing, 429s (a 5xx or a timeout is the model's
// or the provider's, and must not take one key away from every model of its
// deployment). A stream's outcome is counted when it ends. An open breaker takes its
// target (or key) out of selection; the request path reads an atomic mirror of the
// breaker's state, so skipping an open target takes no lock.
//
// A key answered with 401 or 403 is disabled at once: a log line naming the deployment
// and the credential id (never the key), and the KeyHealth hook, which the app wires to
// the provider key store and the audit log. Its siblings take over. A key answered with
// 429 cools down for the upstream's retry-after (one second when it gave none). Keys of a
// deployment are balanced by weight among those that are enabled, cool and closed. A
// disabled key stays disabled in this process while it is in the routing table: a key
// stored through the API leaves it when the hook marks it disabled in the store, and
// comes back fresh when an operator enables it again; a config-file key comes back at
// the next start.
//
// # Attempts
//
// A model's Retries is how many more attempts it gets after the first; then each
// fallback model, in order, gets its own. A retry goes to a target this request has not
// tried yet when one is healthy, else to another key of a tried one. A retry on another
// target or key is sent at once; a retry on the same target and key (nothing else is
// healthy) waits exponential backoff with full jitter, or the upstream's retry-after
// when it gave one. A wait that does not fit in the deadline is not made: the last error
// is answered instead (a 429 keeps its retry-after). A client error (a 4xx other than
// 401, 403, 408 and 429) is answered as it is, without retries. When every target of a
// model and of its fallbacks is out of selection the answer is 503
// no_healthy_deployment, with a retry-after of the earliest half-open.
//
// # Timeouts
//
// The model's timeout (Options.DefaultTimeout when it has none) is the request's
// deadline: for a JSON answer it covers every attempt and the whole answer, for a stream
// every attempt until the first chunk. A deployment's Timeout bounds one attempt's time
// to first byte (to the first chunk of a stream, to the answer otherwise); when it
// passes the attempt fails as a timeout and the next one starts. Once a stream has
// delivered its first chunk it runs under the caller's context, and Options.StreamIdle
// (or the deployment's Timeout, when shorter) bounds the silence between chunks. A
// request deadline ends in 504 upstream_timeout; a stream that goes idle ends with an
// error whose code is upstream_timeout, which the server sends as an SSE error event.
//
// # Streams
//
// Stream returns only after the upstream delivered its first chunk: an upstream that
// opens a stream and fails before its first chunk is a failed attempt like any other,
// and the next target is tried. After that first chunk nothing is retried.
//
// # Replicas
//
// With a Share (RedisShare), a breaker that opens on one replica is announced to the
// others, which skip that target until the opening replica's open period ends or it
// announces the close. The request path reads only memory; the subscription keeps it
// current.
package router
