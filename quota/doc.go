// Package quota enforces rate limits: requests per minute, tokens per minute and
// concurrent requests, per key, per project and per model, on one replica or shared by
// many through Redis.
//
// # Wiring
//
// For each request the server builds a Request listing every limit that applies (the
// key's, its project's, the model's gateway-wide limit) with the request's token estimate
// (Estimate), and calls Allow before forwarding:
//
//	d, err := lim.Allow(ctx, req)
//	quota.SetHeaders(w.Header(), d)  // also on a 429: OpenAI sends them there too
//	if err != nil { return err }     // 429 rate_limit_exceeded, or 503 under fail_closed
//	... forward, stream ...
//	lim.Finish(ctx, d, usage.TotalTokens) // however it ended: settles the real usage
//	                                      // and frees the concurrency slot
//
// A request that another check refuses right after Allow (its budget) is given back
// whole with Cancel: its request, its tokens and its slot.
//
// All limits apply together: the request passes only if each one allows it, and a denied
// request consumes from none (one mutex in process, one Lua script in Redis). Limits are
// read from every Request, never cached, so a changed limit applies on the next request
// on every replica. Finish, Cancel, and the separate Settle and Release, are idempotent
// (each half once), and do their work even when ctx was cancelled (the client went away).
//
// # Windows
//
// Requests and tokens are counted in a sliding window of 61 one-second buckets: the
// current second and the 60 before it. A request or token counted at time t stops
// counting between 60 and 61 seconds later, so no rolling minute ever admits more than
// the limit, and a burst admits exactly the limit however long the burst takes. (GCRA
// was the alternative: O(1) state, but it refills continuously, so a burst that spans
// half a second of a 100 rpm limit admits 100 plus what refilled.) Token limits reserve
// the estimate at Allow; Settle corrects the reservation's bucket by the difference, or
// counts extra usage in the current bucket once the reservation has left the window.
//
// The headers follow OpenAI: limit and remaining of the tightest limit of each kind (the
// fewest remaining, after this request), and reset as the time until the window is back
// to its initial state, in OpenAI's duration format ("20ms", "8.64s", "1m0s"). A 429
// carries Retry-After: when enough of the window will have left for the request to fit.
// A token estimate above the limit itself can never fit: its 429 says "Request too large"
// and has no Retry-After.
//
// # In process
//
// Local is exact on one replica: one mutex covers each decision across all its scopes.
// Memory is about 1 KB per limited scope, and scopes with nothing counted in the last
// minute and nothing in flight are forgotten, so memory follows the active scopes.
//
// # Redis
//
// Redis is shared by every replica: one EVALSHA (EVAL when the script is not loaded) per
// decision and one per Finish, each only when there is something to do. AllowWith and
// FinishWith take a Rider, another component's Redis call (the budget ledger's), and send
// it in the same pipeline, so that a request costs one round trip to be let in and one
// to be finished whatever else keeps its counters in Redis. The two scripts stay
// separate (the ledger's keys live in another cluster slot) and independent: the caller
// undoes one when the other refuses, which costs a second round trip on refusals only.
// Time is Redis's own TIME, so replicas need no clock agreement. A scope's counters are a
// hash per kind of one-second buckets plus a running total and the range of buckets it
// may hold (so a decision costs a few commands per window, not a read of every bucket),
// expiring 62 s after the first write in its newest bucket, and a sorted set of
// concurrency slots scored by expiry. A slot expires SlotTTL (default 1m) after it was
// taken or last refreshed: Run refreshes the slots this replica holds every SlotTTL/3, so
// long streams keep theirs and the slots of a replica that died free themselves within
// SlotTTL. Without Run, a request that outlives SlotTTL loses its slot early.
//
// Redis Cluster: a script may only touch keys of one hash slot. Every key is tagged
// "{Prefix}", so all limiter keys live in one slot and every decision stays atomic across
// key, project and model scopes. Tagging by key id ({tg:<key>}) would spread the load but
// give each key its own copy of its project's and model's counters: a project limit
// multiplied by the number of keys, which is exactly the bug this package exists to avoid.
// The price is that limiter traffic is served by one primary; at one short script per
// LLM request that is far below what one Redis primary handles. Deployments that want to
// shard can run one prefix per tenant group.
//
// When Redis cannot be reached (a failed or timed-out call), the limiter turns degraded:
// it logs one line, sets the tollgate_ratelimit_degraded gauge, reports Degraded() true
// for /readyz, and applies its Policy. fail_open (the default) decides in process, per
// replica: the same limits, counted by each replica alone. fail_closed answers 503
// service_unavailable. It probes Redis with exponential backoff (ProbeMin to ProbeMax),
// from Run and from requests themselves (one at a time), and returns to shared limits
// on the first success, logging one line. Decisions keep the backend that took them:
// a slot taken in process is released in process. A slot taken in Redis whose release
// failed during the outage is freed by Run as soon as Redis answers again (before
// shared limits resume when Run's probe finds it back). Counts made in process during
// an outage are not copied into Redis.
//
// # Estimates
//
// Estimate counts the prompt with tiktoken (o200k_base or cl100k_base by model name,
// the tables compiled in by tiktoken-go-loader; nothing is downloaded), following
// OpenAI's cookbook for chat framing, and adds max_tokens, or the model's default output
// limit, times n. Counts are cached by text hash, and texts over 8 KiB are counted on
// samples, because tiktoken-go runs at a few MB/s.
package quota
