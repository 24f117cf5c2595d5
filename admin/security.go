package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// TokenAlert is one secret match in a leaked-token report, in GitHub's secret scanning
// partner format: the token, the type name it was registered under, the public URL
// where it was found and where on GitHub that was (content, commit, issue_comment, ...).
// It prints and marshals without the token.
type TokenAlert struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// String describes the alert without its token.
func (a TokenAlert) String() string {
	return fmt.Sprintf("token alert (%s, %s, %s)", a.Type, a.Source, a.URL)
}

// LogValue logs the alert without its token.
func (a TokenAlert) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", a.Type), slog.String("url", a.URL), slog.String("source", a.Source))
}

// MarshalJSON writes the alert with its token redacted.
func (a TokenAlert) MarshalJSON() ([]byte, error) {
	type plain TokenAlert
	a.Token = "[REDACTED]"
	return json.Marshal(plain(a))
}

// The labels of GitHub's false-positive feedback.
const (
	LabelTruePositive  = "true_positive"
	LabelFalsePositive = "false_positive"
)

// TokenAlertResult is the answer about one token, in GitHub's false-positive feedback
// format. The token is given as its SHA-256 (token_hash, which GitHub accepts in place
// of token_raw) so that the answer never carries a secret.
type TokenAlertResult struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// Outcomes of a reported token, in the key.leak_reported audit event.
const (
	outcomeRevoked  = "revoked"
	outcomeDeleted  = "deleted"
	outcomeInactive = "already_inactive"
)

// Leaks handles reports of leaked keys: it revokes first, then records and notifies.
// A leaked client key is revoked with its ephemeral children, through the same audited
// path as the admin API, so every replica stops accepting it; a leaked admin token is
// deleted. A report that names a key already revoked (GitHub sending the same report
// again, or the key found somewhere else) changes nothing and is recorded again.
type Leaks struct {
	keys   *Keys
	tokens *Tokens
	verify *AlertKeys
}

// NewLeaks returns the leaked-key service.
func NewLeaks(k *Keys, t *Tokens, v *AlertKeys) *Leaks {
	return &Leaks{keys: k, tokens: t, verify: v}
}

// secretScanningActor is who acts on a report, in the audit log.
func secretScanningActor(a audit.Actor) audit.Actor {
	a.ID, a.Name = "github-secret-scanning", "GitHub secret scanning"
	return a
}

// Report verifies a signed report (body exactly as received, with the key identifier
// and signature of its headers), then handles each token in it, and returns GitHub's
// feedback: true_positive for a tollgate key whose whole secret matched, false_positive
// otherwise. Nothing is done for a report whose signature does not verify.
func (l *Leaks) Report(ctx context.Context, actor audit.Actor, keyID, signature string, body []byte) ([]TokenAlertResult, error) {
	if err := l.verify.Verify(keyID, signature, body); err != nil {
		return nil, err
	}
	var alerts []TokenAlert
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, apierr.InvalidJSON("the body must be a JSON array of {token, type, url, source}").WithCause(err)
	}
	actor = secretScanningActor(actor)
	out := make([]TokenAlertResult, 0, len(alerts))
	found := 0
	for _, a := range alerts {
		label, err := l.handle(ctx, actor, a)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(a.Token))
		out = append(out, TokenAlertResult{TokenHash: hex.EncodeToString(sum[:]), TokenType: a.Type, Label: label})
		if label == LabelTruePositive {
			found++
		}
	}
	l.keys.Log.Info("token alert handled", "request_id", actor.RequestID, "tokens", len(alerts), "true_positives", found)
	return out, nil
}

// handle acts on one reported token and returns its label.
func (l *Leaks) handle(ctx context.Context, actor audit.Actor, a TokenAlert) (string, error) {
	r, active, err := l.match(ctx, a.Token)
	if err != nil || r == nil {
		return LabelFalsePositive, err
	}
	outcome, revoked := outcomeInactive, []string{}
	if active {
		if outcome, revoked, err = l.revoke(ctx, actor, r, a); err != nil {
			return "", err
		}
	}
	ev := keyEvent(actor, "key.leak_reported", r.ID, map[string]any{"kind": r.Kind, "hint": r.Hint,
		"type": a.Type, "url": a.URL, "source": a.Source, "outcome": outcome, "revoked": revoked})
	ev.Time = l.keys.now()
	if err := l.keys.Auditor.Record(ctx, ev); err != nil {
		l.keys.Log.Error("a leaked key was handled but the report could not be audited", "key_id", r.ID, "error", err)
	}
	l.keys.Log.Warn("leaked key reported by GitHub secret scanning", "key_id", r.ID, "kind", r.Kind,
		"owner", r.Owner, "project", r.Project, "outcome", outcome, "revoked", revoked, "alert", a)
	return LabelTruePositive, nil
}

// match finds the stored key whose whole secret is token, and whether that secret
// still opens it (a current secret, or a previous one within its rotation grace); a
// key id alone is no proof. It returns nil for anything else.
func (l *Leaks) match(ctx context.Context, token string) (*store.Key, bool, error) {
	p, err := keys.Parse(token)
	if err != nil {
		return nil, false, nil
	}
	r, err := l.keys.store.GetKey(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeUnavailable(err)
	}
	if r.Kind != string(p.Kind) {
		return nil, false, nil
	}
	sum := l.keys.Hasher.Sum(token)
	current := subtle.ConstantTimeCompare(sum, r.Hash) == 1
	previous := len(r.PrevHash) > 0 && subtle.ConstantTimeCompare(sum, r.PrevHash) == 1
	if !current && !previous {
		return nil, false, nil
	}
	inGrace := previous && r.GraceUntil != nil && l.keys.now().Before(*r.GraceUntil)
	usable := r.Status == "active" || r.Status == "disabled"
	return r, usable && (current || inGrace), nil
}

// revoke revokes a leaked client or ephemeral key (and its children), or deletes a
// leaked admin token.
func (l *Leaks) revoke(ctx context.Context, actor audit.Actor, r *store.Key, a TokenAlert) (string, []string, error) {
	if r.Kind == string(keys.KindAdmin) {
		if err := l.tokens.Delete(ctx, actor, r.ID); err != nil {
			return "", nil, err
		}
		return outcomeDeleted, []string{r.ID}, nil
	}
	reason := "leaked: reported by GitHub secret scanning at " + a.URL
	ev := keyEvent(actor, "key.revoke", r.ID, map[string]any{"reason": reason})
	ids, err := l.keys.revoke(ctx, ev, store.KeySelector{ID: r.ID}, reason)
	if err != nil {
		return "", nil, err
	}
	return outcomeRevoked, ids, nil
}

func storeUnavailable(err error) error {
	return apierr.New(apierr.KindGateway, 503, "service_unavailable", "store_unavailable",
		"the key store is unavailable; nothing was revoked; try again shortly").WithCause(err)
}
