package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/router"
	"github.com/tollgate-llm/tollgate/store"
)

// ModelStore is the store as the model service uses it.
type ModelStore interface {
	GetModel(ctx context.Context, name string) (*store.Model, error)
	ListModels(ctx context.Context) ([]*store.Model, error)
	WriteTx(ctx context.Context, fn func(tx *store.Tx) error) error
}

// RouteLookup finds the live route of a model, for its health.
type RouteLookup interface {
	Lookup(name string) (*router.Route, bool)
}

// Models is the admin service of models (routes). Models of the config file are listed
// with source "config" and are read-only. Every change commits together with its audit
// row (one transaction), so a change the audit log cannot take is not made.
type Models struct {
	Store ModelStore
	Audit TxRecorder
	// Routes is the live routing table; nil leaves health out.
	Routes RouteLookup
	// Config is the loaded config, for its models and its file name.
	Config *configs.Config
	// Providers returns the names of the providers a target may name.
	Providers func(ctx context.Context) (map[string]bool, error)
	// Changed is called after every committed change, with the model's name: it
	// rebuilds the routes here and tells the other replicas.
	Changed func(ctx context.Context, model string)
}

// ModelView is a model as the admin API shows it, with each target's live health.
type ModelView struct {
	Name      string       `json:"name"`
	Strategy  string       `json:"strategy"`
	Targets   []TargetView `json:"targets"`
	Fallbacks []string     `json:"fallbacks"`
	Timeout   string       `json:"timeout,omitempty"`
	Retries   int          `json:"retries"`
	Pricing   *Pricing     `json:"pricing,omitempty"`
	// Source is "config" or "api".
	Source    string     `json:"source"`
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// TargetView is a target with its live health; Health is nil when the target is not
// routed (its provider is gone).
type TargetView struct {
	TargetSpec
	Health *router.TargetHealth `json:"health,omitempty"`
}

// StoredModel is a model defined through the API.
type StoredModel struct {
	Spec      ModelSpec
	CreatedAt time.Time
}

// Stored returns the models defined through the API, in name order.
func (s *Models) Stored(ctx context.Context) ([]StoredModel, error) {
	rows, err := s.Store.ListModels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]StoredModel, 0, len(rows))
	for _, r := range rows {
		spec, err := decodeSpec(r)
		if err != nil {
			return nil, err
		}
		out = append(out, StoredModel{Spec: spec, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

func decodeSpec(r *store.Model) (ModelSpec, error) {
	var spec ModelSpec
	if err := json.Unmarshal(r.Spec, &spec); err != nil {
		return spec, fmt.Errorf("model %q: stored spec: %w", r.Name, err)
	}
	spec.Name = r.Name
	return spec.withDefaults(), nil
}

// List returns the config file's models, then the stored ones.
func (s *Models) List(ctx context.Context) ([]ModelView, error) {
	var out []ModelView
	for _, m := range s.configModels() {
		out = append(out, s.view(ConfigSpec(m), "config", nil))
	}
	rows, err := s.Store.ListModels(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		spec, err := decodeSpec(r)
		if err != nil {
			return nil, err
		}
		out = append(out, s.view(spec, "api", r))
	}
	return out, nil
}

// Get returns one model.
func (s *Models) Get(ctx context.Context, name string) (ModelView, error) {
	if m, ok := s.configModel(name); ok {
		return s.view(ConfigSpec(m), "config", nil), nil
	}
	r, err := s.Store.GetModel(ctx, name)
	if err != nil {
		return ModelView{}, notFoundAs(err, fmt.Sprintf("no model named '%s'", name))
	}
	spec, err := decodeSpec(r)
	if err != nil {
		return ModelView{}, err
	}
	return s.view(spec, "api", r), nil
}

// Create adds a model.
func (s *Models) Create(ctx context.Context, spec ModelSpec, by audit.Actor) (ModelView, error) {
	spec = spec.withDefaults()
	if _, ok := s.configModel(spec.Name); ok {
		return ModelView{}, s.readOnly(spec.Name)
	}
	if err := s.check(ctx, spec); err != nil {
		return ModelView{}, err
	}
	row := &store.Model{Name: spec.Name, CreatedBy: by.ID}
	err := s.write(ctx, row, spec, by, "model.create", func(tx *store.Tx) error { return tx.CreateModel(ctx, row) })
	if errors.Is(err, store.ErrConflict) {
		return ModelView{}, conflict(fmt.Sprintf("a model named '%s' already exists", spec.Name))
	}
	if err != nil {
		return ModelView{}, err
	}
	return s.view(spec, "api", row), nil
}

// Update changes the fields present in p.
func (s *Models) Update(ctx context.Context, name string, p ModelPatch, by audit.Actor) (ModelView, error) {
	if _, ok := s.configModel(name); ok {
		return ModelView{}, s.readOnly(name)
	}
	row, err := s.Store.GetModel(ctx, name)
	if err != nil {
		return ModelView{}, notFoundAs(err, fmt.Sprintf("no model named '%s'", name))
	}
	spec, err := decodeSpec(row)
	if err != nil {
		return ModelView{}, err
	}
	if spec, err = p.apply(spec); err != nil {
		return ModelView{}, err
	}
	spec = spec.withDefaults()
	if err := s.check(ctx, spec); err != nil {
		return ModelView{}, err
	}
	err = s.write(ctx, row, spec, by, "model.update", func(tx *store.Tx) error { return tx.UpdateModel(ctx, row) })
	if err != nil {
		return ModelView{}, notFoundAs(err, fmt.Sprintf("no model named '%s'", name))
	}
	return s.view(spec, "api", row), nil
}

// Delete removes a model that no other model falls back to.
func (s *Models) Delete(ctx context.Context, name string, by audit.Actor) error {
	if _, ok := s.configModel(name); ok {
		return s.readOnly(name)
	}
	if err := s.notFallback(ctx, name); err != nil {
		return err
	}
	err := s.commit(ctx, audit.Event{Actor: by, Action: "model.delete", Target: "model:" + name},
		func(tx *store.Tx) error { return tx.DeleteModel(ctx, name) })
	if err != nil {
		return notFoundAs(err, fmt.Sprintf("no model named '%s'", name))
	}
	s.changed(ctx, name)
	return nil
}

// write stores spec in row through op, in one transaction with its audit event, and
// reports the change.
func (s *Models) write(ctx context.Context, row *store.Model, spec ModelSpec, by audit.Actor, action string,
	op func(tx *store.Tx) error) error {
	stored := spec
	stored.Name = ""
	body, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	row.Spec = body
	ev := audit.Event{Actor: by, Action: action, Target: "model:" + spec.Name, Details: auditDetails(spec)}
	if err := s.commit(ctx, ev, op); err != nil {
		return err
	}
	s.changed(ctx, spec.Name)
	return nil
}

// commit runs change and records ev in one transaction: the change is made if and only
// if its audit row is written. Without an audit log nothing is changed.
func (s *Models) commit(ctx context.Context, ev audit.Event, change func(tx *store.Tx) error) error {
	if s.Audit == nil {
		return auditUnavailable(errors.New("no audit log is wired"))
	}
	return s.Store.WriteTx(ctx, func(tx *store.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		if err := s.Audit.RecordTx(ctx, tx, ev); err != nil {
			return auditUnavailable(err)
		}
		return nil
	})
}

// auditDetails are the non-secret facts of a model change.
func auditDetails(spec ModelSpec) map[string]any {
	targets := make([]string, len(spec.Targets))
	for i, t := range spec.Targets {
		targets[i] = t.Provider + "/" + t.Model
	}
	return map[string]any{"strategy": spec.Strategy, "targets": targets, "fallbacks": spec.Fallbacks,
		"timeout": spec.Timeout, "retries": *spec.Retries}
}

func (s *Models) changed(ctx context.Context, name string) {
	if s.Changed != nil {
		s.Changed(ctx, name)
	}
}

// check validates spec against the providers and models that exist now.
func (s *Models) check(ctx context.Context, spec ModelSpec) error {
	providers, err := s.Providers(ctx)
	if err != nil {
		return err
	}
	names, err := s.modelNames(ctx)
	if err != nil {
		return err
	}
	return spec.validate(providers, names)
}

// modelNames returns every model name, from the config and the store.
func (s *Models) modelNames(ctx context.Context) (map[string]bool, error) {
	names := map[string]bool{}
	for _, m := range s.configModels() {
		names[m.Name] = true
	}
	rows, err := s.Store.ListModels(ctx)
	for _, r := range rows {
		names[r.Name] = true
	}
	return names, err
}

// notFallback refuses to delete a model another model falls back to.
func (s *Models) notFallback(ctx context.Context, name string) error {
	stored, err := s.Stored(ctx)
	if err != nil {
		return err
	}
	for _, m := range stored {
		if slices.Contains(m.Spec.Fallbacks, name) {
			return conflict(fmt.Sprintf("model '%s' falls back to '%s'; change its fallbacks first", m.Spec.Name, name))
		}
	}
	return nil
}

func (s *Models) configModels() []configs.Model {
	if s.Config == nil {
		return nil
	}
	return s.Config.Models
}

func (s *Models) configModel(name string) (configs.Model, bool) {
	ms := s.configModels()
	if i := slices.IndexFunc(ms, func(m configs.Model) bool { return m.Name == name }); i >= 0 {
		return ms[i], true
	}
	return configs.Model{}, false
}

// readOnly is the 409 of a change to a config-file model.
func (s *Models) readOnly(name string) error {
	file := s.Config.File
	if file == "" {
		file = "(built-in defaults and environment)"
	}
	return conflict(fmt.Sprintf("model '%s' is defined in the config file %s and is read-only through the API; change it there",
		name, file))
}

// view renders spec with the live health of its targets.
func (s *Models) view(spec ModelSpec, source string, row *store.Model) ModelView {
	v := ModelView{Name: spec.Name, Strategy: spec.Strategy, Fallbacks: spec.Fallbacks, Timeout: spec.Timeout,
		Retries: *spec.Retries, Pricing: spec.Pricing, Source: source, Targets: make([]TargetView, len(spec.Targets))}
	if row != nil {
		v.CreatedBy, v.CreatedAt, v.UpdatedAt = row.CreatedBy, &row.CreatedAt, &row.UpdatedAt
	}
	var rt *router.Route
	if s.Routes != nil {
		rt, _ = s.Routes.Lookup(spec.Name)
	}
	for i, t := range spec.Targets {
		v.Targets[i] = TargetView{TargetSpec: t, Health: targetHealth(rt, t)}
	}
	return v
}

func targetHealth(rt *router.Route, t TargetSpec) *router.TargetHealth {
	if rt == nil {
		return nil
	}
	for _, rtt := range rt.Targets {
		if rtt.Deployment.Name == t.Provider && rtt.Model == t.Model {
			h := rtt.Health()
			return &h
		}
	}
	return nil
}
