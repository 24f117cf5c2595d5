package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// ProjectStore is the part of the store the project service uses.
type ProjectStore interface {
	CreateProject(ctx context.Context, p *store.Project) error
	GetProject(ctx context.Context, name string) (*store.Project, error)
	ListProjects(ctx context.Context, after string, limit int) ([]*store.Project, error)
	UpdateProject(ctx context.Context, p *store.Project) error
	DeleteProject(ctx context.Context, name string) error
}

// Projects are named groups of keys with their own limits and budget, which apply
// together with each key's own. A key names its project; the project need not be
// defined (then only the key's own limits apply), but a defined project cannot be
// deleted while keys that are active or disabled still belong to it.
type Projects struct {
	Deps
	store ProjectStore
}

// NewProjects returns the project service.
func NewProjects(s ProjectStore, d Deps) *Projects {
	d.defaults()
	return &Projects{Deps: d, store: s}
}

// ProjectRequest is the body of POST /admin/v1/projects.
type ProjectRequest struct {
	Name string `json:"name"`
	keys.ProjectSettings
}

// ProjectPatch is the body of PATCH /admin/v1/projects/{name}; null clears a field.
type ProjectPatch struct {
	Limits   keys.Opt[*keys.Limits]    `json:"limits"`
	Budget   keys.Opt[*keys.Budget]    `json:"budget"`
	Metadata keys.Opt[json.RawMessage] `json:"metadata"`
}

// ProjectView is a project as the admin API shows it.
type ProjectView struct {
	Name string `json:"name"`
	keys.ProjectSettings
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewProject(p *store.Project) (ProjectView, error) {
	v := ProjectView{Name: p.Name, CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if err := json.Unmarshal(p.Settings, &v.ProjectSettings); err != nil {
		return v, fmt.Errorf("project %s: settings: %w", p.Name, err)
	}
	return v, nil
}

func projectNotFound(name string) error {
	return apierr.NotFound(fmt.Sprintf("No project named '%s'.", name))
}

func projectEvent(actor audit.Actor, action, name string) audit.Event {
	return audit.Event{Actor: actor, Action: action, Target: "project:" + name}
}

// Create defines a project.
func (p *Projects) Create(ctx context.Context, actor audit.Actor, req ProjectRequest) (ProjectView, error) {
	if err := keys.CheckProjectName(req.Name); err != nil {
		return ProjectView{}, apierr.InvalidValue("name", err.Error())
	}
	if err := req.Check(); err != nil {
		return ProjectView{}, keys.AsAPIError(err)
	}
	settings, err := json.Marshal(req.ProjectSettings)
	if err != nil {
		return ProjectView{}, err
	}
	row := &store.Project{Name: req.Name, Settings: settings, CreatedBy: actor.ID, CreatedAt: p.now(), UpdatedAt: p.now()}
	err = p.audited(ctx, projectEvent(actor, "project.create", req.Name), func() error { return p.store.CreateProject(ctx, row) })
	if errors.Is(err, store.ErrConflict) {
		return ProjectView{}, conflict(fmt.Sprintf("A project named '%s' exists.", req.Name))
	}
	if err != nil {
		return ProjectView{}, err
	}
	// Replicas may have looked the project up before it existed and cached "none".
	p.announce(ctx, req.Name)
	return viewProject(row)
}

// Get returns a project.
func (p *Projects) Get(ctx context.Context, name string) (ProjectView, error) {
	row, err := p.store.GetProject(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return ProjectView{}, projectNotFound(name)
	}
	if err != nil {
		return ProjectView{}, err
	}
	return viewProject(row)
}

// List returns up to limit projects after the cursor, in name order.
func (p *Projects) List(ctx context.Context, after string, limit int) ([]ProjectView, error) {
	rows, err := p.store.ListProjects(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ProjectView, 0, len(rows))
	for _, r := range rows {
		v, err := viewProject(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Update changes the fields present in patch.
func (p *Projects) Update(ctx context.Context, actor audit.Actor, name string, patch ProjectPatch) (ProjectView, error) {
	v, err := p.Get(ctx, name)
	if err != nil {
		return ProjectView{}, err
	}
	s := v.ProjectSettings
	if patch.Limits.Set {
		s.Limits = patch.Limits.V
	}
	if patch.Budget.Set {
		s.Budget = patch.Budget.V
	}
	if patch.Metadata.Set {
		s.Metadata = patch.Metadata.V
	}
	if err := s.Check(); err != nil {
		return ProjectView{}, keys.AsAPIError(err)
	}
	settings, err := json.Marshal(s)
	if err != nil {
		return ProjectView{}, err
	}
	row := &store.Project{Name: name, Settings: settings}
	ev := projectEvent(actor, "project.update", name)
	ev.Details = map[string]any{"limits": patch.Limits.Set, "budget": patch.Budget.Set, "metadata": patch.Metadata.Set}
	if err := p.audited(ctx, ev, func() error { return p.store.UpdateProject(ctx, row) }); err != nil {
		return ProjectView{}, err
	}
	p.announce(ctx, name)
	v.ProjectSettings, v.UpdatedAt = s, row.UpdatedAt
	return v, nil
}

// TopicProjects is the bus topic on which project changes are announced, so that every
// replica applies a project's new limits and budget on its next request.
const TopicProjects = "projects"

// announce tells every replica a project changed; a failure is logged, and the others
// catch up when their cached entry expires.
func (p *Projects) announce(ctx context.Context, name string) {
	if p.Bus == nil {
		return
	}
	if err := p.Bus.Publish(ctx, TopicProjects, name); err != nil {
		p.Log.Warn("could not tell other replicas that a project changed", "project", name, "error", err)
	}
}

// Delete deletes a project that no active or disabled key belongs to.
func (p *Projects) Delete(ctx context.Context, actor audit.Actor, name string) error {
	if _, err := p.Get(ctx, name); err != nil {
		return err
	}
	err := p.audited(ctx, projectEvent(actor, "project.delete", name), func() error { return p.store.DeleteProject(ctx, name) })
	if err == nil {
		p.announce(ctx, name)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		return conflict(fmt.Sprintf("Keys still belong to project '%s'; revoke them first (POST /admin/v1/keys/revoke {\"project\":...}).", name))
	case errors.Is(err, store.ErrNotFound):
		return projectNotFound(name)
	}
	return err
}
