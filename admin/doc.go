// Package admin is tollgate's admin service layer: the business rules of the admin API,
// without HTTP (package server turns requests into calls here and errors into
// responses).
//
// The key lifecycle (keys*.go, projects*.go, tokens*.go) works like this:
//
//   - Every change is audited first. The audit event is recorded before the change is
//     written; if the audit log cannot take it, the change is not made and the caller
//     gets 503 audit_unavailable. If the write then fails, a second event with
//     outcome "failed" follows, so the log never claims a change that did not happen
//     without saying so. Recording first (rather than in the same transaction) keeps
//     the audit log independent of the tables it describes.
//   - Read-modify-write changes (update, rotate, disable, enable) are conditional on the
//     row being unchanged since it was read, so a concurrent revocation is never undone;
//     a lost race answers 409.
//   - After a change, the ids of every key it touched are published on the invalidate
//     bus (topic keys.InvalidationTopic). The bus delivers in this process before
//     Publish returns, so this replica's cache is current when the admin call returns;
//     other replicas follow over Redis or PostgreSQL. New keys are not published: no
//     replica has them cached, and each reads a new key once on first use.
//   - Revocation is permanent and cascades to ephemeral children; deletion leaves a
//     tombstone (status "deleted", hidden from the API) so the id is never reused and
//     every replica can see that the key is gone. Disable and enable are reversible.
//   - Keys are changed through the admin API only by admin tokens with the admin role;
//     ephemeral keys are minted by client keys with can_mint (Mint).
package admin
