package export

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/schema"
)

// EventRequestLog is the X-Tollgate-Event of request log deliveries.
const EventRequestLog = "request_log"

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	// URL receives the POSTs. It is never logged: it may hold a token.
	URL string
	// Event is the X-Tollgate-Event header (EventRequestLog) and ContentType the
	// bodies' type (application/x-ndjson).
	Event, ContentType string
	// Secret, when set, signs each delivery (X-Tollgate-Signature, billing.Sign).
	Secret schema.Secret
	// Headers are sent with every delivery, for collectors that want a token of their
	// own (Authorization: Splunk ..., DD-API-KEY: ...).
	Headers map[string]schema.Secret
	// Attempts per batch (5); the first retry waits RetryBase (1s), doubling up to
	// RetryMax (30s), with full jitter.
	Attempts  int
	RetryBase time.Duration
	RetryMax  time.Duration
	Client    *http.Client
	Now       func() time.Time
}

// Webhook posts bodies to a URL, signed like billing's alerts, retrying network
// errors, 408, 429 and 5xx with exponential backoff and full jitter; any other answer,
// or the last failed attempt, is an error. The request log's webhook sink and the
// anomaly detectors' notifications use it.
type Webhook struct {
	o WebhookOptions
}

// NewWebhook checks the URL and fills the defaults.
func NewWebhook(o WebhookOptions) (*Webhook, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("export: the webhook URL must be an http:// or https:// URL")
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Event == "" {
		o.Event = EventRequestLog
	}
	if o.ContentType == "" {
		o.ContentType = "application/x-ndjson"
	}
	return &Webhook{o: o}, nil
}

// Post delivers body as the delivery named (X-Tollgate-Delivery, the same across
// retries, for receivers that deduplicate), retrying as configured.
func (s *Webhook) Post(ctx context.Context, delivery string, body []byte) error {
	wait := s.o.RetryBase
	for attempt := 1; ; attempt++ {
		retry, err := s.post(ctx, delivery, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= s.o.Attempts {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rand.N(wait) + 1):
		}
		wait = min(2*wait, s.o.RetryMax)
	}
}

// post makes one delivery; retry says whether another attempt may succeed.
func (s *Webhook) post(ctx context.Context, delivery string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.URL, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("building the request: bad URL")
	}
	req.Header.Set("Content-Type", s.o.ContentType)
	req.Header.Set("User-Agent", "tollgate-webhooks")
	req.Header.Set(billing.HeaderEvent, s.o.Event)
	req.Header.Set(billing.HeaderDelivery, delivery)
	for k, v := range s.o.Headers {
		req.Header.Set(k, v.Reveal())
	}
	if !s.o.Secret.Empty() {
		req.Header.Set(billing.HeaderSignature, billing.Sign([]byte(s.o.Secret.Reveal()), s.o.Now(), body))
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // It repeats the URL; keep only the cause.
			err = ue.Err
		}
		return true, err
	}
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code/100 == 2:
		return false, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return true, fmt.Errorf("status %d", code)
	default:
		return false, fmt.Errorf("status %d", code)
	}
}

// webhookSink posts each batch of lines as NDJSON.
type webhookSink struct {
	w *Webhook
}

var _ Sink = (*webhookSink)(nil)

// NewWebhookSink posts each batch to a Webhook as NDJSON; a batch whose delivery fails
// is dropped with an error.
func NewWebhookSink(o WebhookOptions) (Sink, error) {
	w, err := NewWebhook(o)
	if err != nil {
		return nil, err
	}
	return &webhookSink{w: w}, nil
}

// Write posts the batch.
func (s *webhookSink) Write(ctx context.Context, lines [][]byte) error {
	body := bytes.Join(lines, []byte{'\n'})
	if err := s.w.Post(ctx, newDeliveryID(), append(body, '\n')); err != nil {
		return fmt.Errorf("request log webhook: %d lines dropped: %w", len(lines), err)
	}
	return nil
}

// Close has nothing to release.
func (s *webhookSink) Close() error { return nil }

func newDeliveryID() string {
	var b [12]byte
	_, _ = cryptorand.Read(b[:])
	return "log_" + hex.EncodeToString(b[:])
}
