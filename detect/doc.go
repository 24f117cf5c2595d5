// Package detect finds anomalies in how each client key is used, so that a leaked or
// misused key is noticed within minutes.
//
// # Baselines
//
// Per key and per window (a minute by default) it counts requests, tokens, cost,
// failures of the key's own making (4xx answers) and distinct source addresses, and
// keeps an exponentially weighted mean and variance of each (alpha 0.05, a memory of
// about twenty minutes that follows a daily cycle). Minutes without requests count as
// zeros, so a quiet key has a quiet baseline. A window is scored by z-score against
// the baseline only once the key has had Config.Warmup windows with requests (30), and
// is anomalous only when all of these hold: the z-score is at least Z (6), the value is
// at least MinRatio (4) times the baseline, and it is above an absolute floor (30
// requests, 30000 tokens, $0.05, 10 errors making half the requests, 8 addresses per
// minute), so that small keys do not alert. The variance is never taken below the
// noise of what it measures: Poisson for counts, binomial for the error ratio, and a
// compound Poisson sum (the baseline of the sum of squares) for tokens and cost. A
// value beyond Z deviations enters the baseline as Z deviations, so a burst barely moves
// it while a lasting change is still learned.
//
// # Findings
//
//   - volume_spike: requests, tokens or cost (one finding for all three); high at
//     HighRatio (8) times the baseline. A spike of tokens or cost without more requests
//     (a couple of very large prompts) must last two windows.
//   - error_burst: the share of failed requests; medium, high when nine in ten of at
//     least five times the floor fail.
//   - ip_spread: distinct source addresses; high at twice HighRatio.
//   - new_network: the first request from a /24 (IPv4) or /48 (IPv6) the key had not
//     used (medium); a key seen from MaxNetworks networks (64) stops raising them.
//   - new_model: the first answered request for a model the key had not used (low).
//
// First-seen signals are raised at once; the others when the window closes (Run closes
// windows every minute). A key is not raised again for the same kind within Cooldown
// (1h). Finding ids derive from the key, the kind and the window.
//
// Memory is bounded: at most MaxKeys keys (10000, least recently seen forgotten; a
// forgotten key warms up again), MaxNetworks and MaxModels first-seen entries per key,
// MaxIPsPerWindow addresses counted per window. The Detector reads no clock: it is a
// pure function of the observations and the times passed to it, and its tests replay a
// simulated week deterministically.
//
// Each replica detects over the requests it serves; behind a load balancer a key's
// traffic is split, and so are its baselines (the floors apply per replica).
//
// # Acting on findings
//
// Service runs the detector beside the request path. For each finding it first
// suspends the key when the finding is high and the key opted in (settings.auto_suspend:
// the key is disabled, reversibly and audited as key.disable, and can be enabled
// again), then stores the finding (GET /admin/v1/anomalies), records an audit event
// (anomaly.detected) and posts a webhook signed like billing's budget alerts
// (X-Tollgate-Signature; X-Tollgate-Event: anomaly.detected; the finding id as
// X-Tollgate-Delivery).
package detect
