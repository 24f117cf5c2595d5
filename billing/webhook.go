package billing

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The signature header is
//
//	X-Tollgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// where the HMAC, keyed with the shared secret, covers "<t>.<raw body>". A receiver
// recomputes it over the body bytes exactly as received, compares in constant time,
// and rejects a t too far from its clock (VerifySignature does all three). Deliveries
// carry X-Tollgate-Delivery, stable across retries, for deduplication.
const (
	HeaderSignature = "X-Tollgate-Signature"
	HeaderEvent     = "X-Tollgate-Event"
	HeaderDelivery  = "X-Tollgate-Delivery"
	// EventBudgetThreshold is the event type of budget alerts.
	EventBudgetThreshold = "budget.threshold"
)

// AlertPayload is the JSON body of a budget alert webhook.
type AlertPayload struct {
	ID               string    `json:"id"`
	Type             string    `json:"type"`
	CreatedAt        time.Time `json:"created_at"`
	Scope            string    `json:"scope"`
	Subject          string    `json:"subject"`
	Period           string    `json:"period"`
	PeriodStart      time.Time `json:"period_start"`
	PeriodEnd        time.Time `json:"period_end"`
	ThresholdPercent int       `json:"threshold_percent"`
	LimitUSD         Money     `json:"limit_usd"`
	SpentUSD         Money     `json:"spent_usd"`
}

// Sign returns the X-Tollgate-Signature value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// mac is HMAC-SHA256 of "<ts>.<body>".
func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// ErrBadSignature is returned by VerifySignature for any signature that does not check.
var ErrBadSignature = errors.New("webhook signature does not verify")

// VerifySignature checks header against body and secret, and that its timestamp is
// within tolerance of now, for receivers of tollgate's webhooks.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	want, herr := hex.DecodeString(sig)
	if err != nil || herr != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside the tolerance", ErrBadSignature)
	}
	if !hmac.Equal(want, mac(secret, ts, body)) {
		return ErrBadSignature
	}
	return nil
}

// send posts the alert to every URL, retrying each a few times.
func (a *Alerter) send(ctx context.Context, ev alertEvent) {
	if len(a.opts.URLs) == 0 {
		return
	}
	st := ev.state
	body, err := json.Marshal(AlertPayload{ID: ev.deliveryID(), Type: EventBudgetThreshold,
		CreatedAt: a.opts.Now().UTC(), Scope: ev.scope, Subject: ev.subject, Period: ev.period,
		PeriodStart: st.Start.UTC(), PeriodEnd: st.End.UTC(), ThresholdPercent: ev.threshold,
		LimitUSD: st.Limit, SpentUSD: st.Spent})
	if err != nil {
		a.opts.Logger.Error("encoding budget alert", "error", err)
		return
	}
	for _, target := range a.opts.URLs {
		if err := a.post(ctx, target, ev.deliveryID(), body); err != nil {
			a.opts.Logger.Error("budget alert webhook failed", "delivery", ev.deliveryID(), "error", err)
		}
	}
}

// post delivers body to url, retrying failures with a doubling pause; a 2xx answer
// is success. URLs are not logged: they may hold tokens.
func (a *Alerter) post(ctx context.Context, target, delivery string, body []byte) error {
	pause := a.opts.RetryBase
	var err error
	for attempt := 1; ; attempt++ {
		if err = a.postOnce(ctx, target, delivery, body); err == nil || attempt == a.opts.Attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
			pause *= 2
		}
	}
}

func (a *Alerter) postOnce(ctx context.Context, target, delivery string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New("building webhook request: bad URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tollgate-webhooks")
	req.Header.Set(HeaderEvent, EventBudgetThreshold)
	req.Header.Set(HeaderDelivery, delivery)
	req.Header.Set(HeaderSignature, Sign(a.opts.Secret, a.opts.Now(), body))
	resp, err := a.opts.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // It repeats the URL; keep only the cause.
			err = ue.Err
		}
		return fmt.Errorf("posting webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("posting webhook: status %d", resp.StatusCode)
	}
	return nil
}
