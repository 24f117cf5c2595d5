// Package export writes the request log and the audit log to the places a SIEM reads
// from: standard output, a size-rotated file, or a webhook. Every request to the client
// API (/v1) is one JSON line with the fields of GET /admin/v1/logs (id, time, key id,
// project, endpoint, model, provider, upstream model, status, tokens, cost, latency,
// time to first token, attempts, source IP, user agent) and never a prompt or a
// secret; every admin audit event is one line too. Health checks, metrics scrapes and
// admin reads are not exported: admin changes are in the audit events.
//
// # Formats
//
// "json" (the default) writes {"event":"request", ...the /logs fields} for each
// request, "auth_failure" for a request refused while authenticating its key (with the
// public id of the key presented, when it was well formed), and {"event":"audit",
// ...the GET /admin/v1/audit fields} for each audit event.
//
// "ocsf" writes OCSF 1.3 events: API Activity (class_uid 6003, activity Create) for
// each request, Authentication (class_uid 3002, activity Logon, status Failure) for
// each key refused, and API Activity for audit events (activity from the action's
// verb: create, update, delete), except admin.auth_failed, which is Authentication.
// Every event has the required base attributes (activity_id, category_uid, class_uid,
// type_uid, severity_id, time in epoch milliseconds, metadata with the schema version
// and product) and the class's required objects (API Activity: actor, api,
// src_endpoint; Authentication: user, and service as its destination). tollgate's own
// fields (model, provider, tokens, cost) go in unmapped.
//
// # Delivery
//
// Each sink has its own bounded queue and goroutine, so a slow webhook does not hold
// up the file. Request and Audit never block: when a sink's queue is full the line is
// dropped for that sink and counted (Stats), and a warning is logged at most once a
// minute. Lines are written in batches, on BatchSize or FlushInterval. The webhook
// posts each batch as NDJSON, signed like billing's alerts (X-Tollgate-Signature,
// billing.Sign) when it has a secret, and retries network errors, 408, 429 and 5xx
// with exponential backoff and jitter before dropping the batch. Run drains every
// queue when it stops.
//
// # Secrets
//
// Lines carry key ids, never keys. Every string in a line that a client or an upstream
// can influence (user agent, model names, request ids, error codes, audit details) is
// passed through telemetry.Redact before it is written.
package export
