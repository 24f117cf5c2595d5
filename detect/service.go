package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
)

// Store keeps findings; *store.DB is one.
type Store interface {
	InsertAnomaly(ctx context.Context, a store.Anomaly) error
}

// AuditRecorder records audit events; *audit.Log is one.
type AuditRecorder interface {
	Record(ctx context.Context, e audit.Event) error
}

// KeyPolicy reads a key's auto-suspend setting and suspends keys; the app adapts the
// admin key service to it.
type KeyPolicy interface {
	// AutoSuspend reports whether the key opted in (settings.auto_suspend).
	AutoSuspend(ctx context.Context, keyID string) (bool, error)
	// Suspend disables the key, reversibly, on every replica, and audits it.
	Suspend(ctx context.Context, keyID, reason string) error
}

// Notifier delivers a finding's webhook; export.Webhook is one.
type Notifier interface {
	Post(ctx context.Context, delivery string, body []byte) error
}

var _ Store = (*store.DB)(nil)

// ServiceOptions configure a Service.
type ServiceOptions struct {
	Config Config
	// Store is required; Audit, Keys and Notify are optional.
	Store  Store
	Audit  AuditRecorder
	Keys   KeyPolicy
	Notify Notifier
	// QueueSize bounds the observations waiting (10000); more are dropped and counted.
	QueueSize int
	// Now is the clock of the minute ticks (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service runs the detector beside the request path: Observe queues a finished
// request without blocking, and Run feeds the detector, closes windows every minute
// and acts on each finding: it suspends the key first when the finding is high and the
// key opted in, then stores the finding, records an audit event (anomaly.detected)
// and posts the webhook.
type Service struct {
	o        ServiceOptions
	det      *Detector
	queue    *obsQueue
	findings chan Finding
	dropped  atomic.Int64
}

// NewService returns a service; start it with Run.
func NewService(o ServiceOptions) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("detect: the service needs a store for its findings")
	}
	o.Config.setDefaults()
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{o: o, det: New(o.Config), queue: newObsQueue(o.QueueSize),
		findings: make(chan Finding, 256)}, nil
}

// Observe queues one finished request. It never blocks: a full queue drops it.
func (s *Service) Observe(o Observation) {
	if !s.queue.push(o) {
		s.dropped.Add(1)
	}
}

// Depth is the number of observations waiting.
func (s *Service) Depth() int { return s.queue.len() }

// Dropped counts the observations a full queue dropped.
func (s *Service) Dropped() int64 { return s.dropped.Load() }

// Run feeds the detector until ctx is done. Findings are acted on by a second
// goroutine, so that a slow webhook does not hold up the observations.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { s.act(ctx) })
	defer wg.Wait()
	tick := time.NewTicker(s.o.Config.Window)
	defer tick.Stop()
	var batch []Observation
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.queue.ready:
			batch = s.queue.swap(batch)
			for _, o := range batch {
				s.pass(s.det.Observe(o))
			}
		case <-tick.C:
			s.pass(s.det.Advance(s.o.Now()))
		}
	}
}

// pass hands findings to the acting goroutine; should it fall that far behind, they
// are logged and dropped.
func (s *Service) pass(fs []Finding) {
	for _, f := range fs {
		select {
		case s.findings <- f:
		default:
			s.o.Logger.Error("anomaly dropped: too many waiting", "id", f.ID, "key_id", f.KeyID, "kind", f.Kind)
		}
	}
}

func (s *Service) act(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-s.findings:
			s.handle(context.WithoutCancel(ctx), f)
		}
	}
}

// handle acts on one finding. A panic is logged, not fatal.
func (s *Service) handle(ctx context.Context, f Finding) {
	defer func() {
		if p := recover(); p != nil {
			s.o.Logger.Error("acting on an anomaly panicked", "id", f.ID, "panic", fmt.Sprint(p))
		}
	}()
	action := s.suspend(ctx, f)
	s.o.Logger.Warn("anomaly", "id", f.ID, "key_id", f.KeyID, "kind", f.Kind, "severity", f.Severity,
		"summary", f.Summary, "action", action)
	details, _ := json.Marshal(f.Details)
	if err := s.o.Store.InsertAnomaly(ctx, store.Anomaly{ID: f.ID, Time: f.Time, KeyID: f.KeyID, Project: f.Project,
		Kind: f.Kind, Severity: f.Severity, Score: f.Score, WindowStart: f.WindowStart, Summary: f.Summary,
		Details: string(details), Action: action}); err != nil {
		s.o.Logger.Error("storing an anomaly", "id", f.ID, "error", err)
	}
	if s.o.Audit != nil {
		err := s.o.Audit.Record(ctx, audit.Event{Actor: audit.Actor{ID: "system", Name: "detector"},
			Action: "anomaly.detected", Target: "key:" + f.KeyID, Time: f.Time,
			Details: map[string]any{"id": f.ID, "kind": f.Kind, "severity": f.Severity, "summary": f.Summary,
				"action": action}})
		if err != nil {
			s.o.Logger.Error("recording an anomaly in the audit log", "id", f.ID, "error", err)
		}
	}
	s.notify(ctx, f, action)
}

// Actions taken on findings.
const (
	ActionSuspended     = "suspended"
	ActionSuspendFailed = "suspend_failed"
)

// suspend disables the key of a high finding when the key opted in.
func (s *Service) suspend(ctx context.Context, f Finding) string {
	if f.Severity != SeverityHigh || s.o.Keys == nil {
		return ""
	}
	on, err := s.o.Keys.AutoSuspend(ctx, f.KeyID)
	if err != nil {
		s.o.Logger.Error("reading a key's auto_suspend setting", "key_id", f.KeyID, "error", err)
		return ActionSuspendFailed
	}
	if !on {
		return ""
	}
	if err := s.o.Keys.Suspend(ctx, f.KeyID, "anomaly "+f.ID+": "+f.Summary); err != nil {
		s.o.Logger.Error("suspending a key after an anomaly", "key_id", f.KeyID, "id", f.ID, "error", err)
		return ActionSuspendFailed
	}
	return ActionSuspended
}

// Record is a finding and what was done about it, as GET /admin/v1/anomalies lists it
// and the webhook posts it.
type Record struct {
	ID          string         `json:"id"`
	Time        time.Time      `json:"time"`
	KeyID       string         `json:"key_id"`
	Project     string         `json:"project,omitempty"`
	Kind        string         `json:"kind"`
	Severity    string         `json:"severity"`
	Score       float64        `json:"score"`
	WindowStart time.Time      `json:"window_start"`
	Summary     string         `json:"summary"`
	Details     map[string]any `json:"details,omitempty"`
	// Action is what was done: "suspended" when the key's auto_suspend policy disabled
	// it, "suspend_failed" when that failed.
	Action string `json:"action,omitempty"`
}

// Payload is the JSON body of an anomaly webhook: the record and its event type.
type Payload struct {
	Type string `json:"type"`
	Record
}

// EventAnomaly is the event type of anomaly webhooks.
const EventAnomaly = "anomaly.detected"

func (s *Service) notify(ctx context.Context, f Finding, action string) {
	if s.o.Notify == nil {
		return
	}
	body, err := json.Marshal(Payload{Type: EventAnomaly, Record: Record{ID: f.ID, Time: f.Time.UTC(),
		KeyID: f.KeyID, Project: f.Project, Kind: f.Kind, Severity: f.Severity, Score: f.Score,
		WindowStart: f.WindowStart.UTC(), Summary: f.Summary, Details: f.Details, Action: action}})
	if err != nil {
		s.o.Logger.Error("encoding an anomaly webhook", "id", f.ID, "error", err)
		return
	}
	if err := s.o.Notify.Post(ctx, f.ID, body); err != nil {
		s.o.Logger.Error("anomaly webhook failed", "id", f.ID, "error", err)
	}
}
