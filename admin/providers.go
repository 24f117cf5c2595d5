package admin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/providers/registry"
	"github.com/tollgate-llm/tollgate/store"
)

// ProviderStore is the store as the provider service uses it.
type ProviderStore interface {
	GetProvider(ctx context.Context, name string) (*store.Provider, error)
	ListProviders(ctx context.Context) ([]*store.Provider, error)
	ListProviderKeys(ctx context.Context, provider string) ([]*store.ProviderKey, error)
	GetProviderKey(ctx context.Context, id string) (*store.ProviderKey, error)
	WriteTx(ctx context.Context, fn func(tx *store.Tx) error) error
}

// TxRecorder records an audit event in the transaction of the change it describes.
type TxRecorder interface {
	RecordTx(ctx context.Context, tx *store.Tx, e audit.Event) error
}

// Sealer seals provider keys for the store.
type Sealer interface {
	Seal(ctx context.Context, plaintext, aad []byte) ([]byte, error)
}

// Providers is the admin service of providers and their keys. Providers of the config
// file are listed with source "config" and are read-only.
//
// Unlike the key lifecycle, which records its audit event before the change, every
// provider change is written in the same transaction as its audit row (store.WriteTx):
// both commit or neither does, so the log never holds a change that did not happen and
// no change happens without its row.
type Providers struct {
	Store ProviderStore
	Vault Sealer
	Audit TxRecorder
	// Config is the loaded config, for its providers and its file name.
	Config *configs.Config
	// Fingerprint returns a short one-way digest of a provider key.
	Fingerprint func(secret string) string
	// Changed is called after every committed change, with the provider's name: it
	// reloads the routes here and tells the other replicas.
	Changed func(ctx context.Context, provider string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ProviderRequest is the body of POST /providers and, with absent fields left alone,
// of PATCH /providers/{name}.
type ProviderRequest struct {
	Name       *string            `json:"name"`
	Type       *string            `json:"type"`
	BaseURL    *string            `json:"base_url"`
	APIVersion *string            `json:"api_version"`
	Region     *string            `json:"region"`
	Headers    *map[string]string `json:"headers"`
}

// ProviderView is a provider as the admin API shows it.
type ProviderView struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	BaseURL    string            `json:"base_url,omitempty"`
	APIVersion string            `json:"api_version,omitempty"`
	Region     string            `json:"region,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	// Source is "api" or "config".
	Source    string     `json:"source"`
	Keys      int        `json:"keys"`
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// credentialHeaders may not be set as provider headers: their values are secrets,
// which belong in the provider's keys.
var credentialHeaders = []string{"authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key", "cookie"}

func (s *Providers) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// configProvider returns the config file's provider named name.
func (s *Providers) configProvider(name string) (configs.Provider, bool) {
	if s.Config == nil {
		return configs.Provider{}, false
	}
	i := slices.IndexFunc(s.Config.Providers, func(p configs.Provider) bool { return p.Name == name })
	if i < 0 {
		return configs.Provider{}, false
	}
	return s.Config.Providers[i], true
}

// readOnly is the 409 of a change to a config-file provider.
func (s *Providers) readOnly(name string) error {
	return conflict(fmt.Sprintf("provider '%s' is defined in the config file %s and is read-only through the API; change it there",
		name, s.Config.File))
}

// List returns the config file's providers, then the stored ones.
func (s *Providers) List(ctx context.Context) ([]ProviderView, error) {
	var out []ProviderView
	if s.Config != nil {
		for _, p := range s.Config.Providers {
			out = append(out, configView(p))
		}
	}
	stored, err := s.Store.ListProviders(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.Store.ListProviderKeys(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, p := range stored {
		n := 0
		for _, k := range keys {
			if k.Provider == p.Name {
				n++
			}
		}
		out = append(out, storedView(p, n))
	}
	return out, nil
}

// Get returns one provider.
func (s *Providers) Get(ctx context.Context, name string) (ProviderView, error) {
	if p, ok := s.configProvider(name); ok {
		return configView(p), nil
	}
	p, err := s.getStored(ctx, name)
	if err != nil {
		return ProviderView{}, err
	}
	keys, err := s.Store.ListProviderKeys(ctx, name)
	if err != nil {
		return ProviderView{}, err
	}
	return storedView(p, len(keys)), nil
}

func (s *Providers) getStored(ctx context.Context, name string) (*store.Provider, error) {
	p, err := s.Store.GetProvider(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound(fmt.Sprintf("no provider named '%s'", name))
	}
	return p, err
}

// Create adds a provider.
func (s *Providers) Create(ctx context.Context, req ProviderRequest, by audit.Actor) (ProviderView, error) {
	p := &store.Provider{CreatedBy: by.ID}
	if req.Name == nil || *req.Name == "" {
		return ProviderView{}, apierr.MissingField("name")
	}
	p.Name = *req.Name
	if _, ok := s.configProvider(p.Name); ok {
		return ProviderView{}, s.readOnly(p.Name)
	}
	if err := applyProvider(p, req); err != nil {
		return ProviderView{}, err
	}
	err := s.commit(ctx, audit.Event{Actor: by, Action: "provider.create", Target: "provider:" + p.Name,
		Details: map[string]any{"type": p.Type, "base_url": p.BaseURL}}, func(tx *store.Tx) error {
		return tx.CreateProvider(ctx, p)
	})
	if errors.Is(err, store.ErrConflict) {
		return ProviderView{}, conflict(fmt.Sprintf("a provider named '%s' already exists", p.Name))
	}
	if err != nil {
		return ProviderView{}, err
	}
	s.changed(ctx, p.Name)
	return storedView(p, 0), nil
}

// Update changes the fields present in req.
func (s *Providers) Update(ctx context.Context, name string, req ProviderRequest, by audit.Actor) (ProviderView, error) {
	if _, ok := s.configProvider(name); ok {
		return ProviderView{}, s.readOnly(name)
	}
	if req.Name != nil && *req.Name != name {
		return ProviderView{}, apierr.InvalidValue("name", "a provider cannot be renamed; create a new one")
	}
	p, err := s.getStored(ctx, name)
	if err != nil {
		return ProviderView{}, err
	}
	if err := applyProvider(p, req); err != nil {
		return ProviderView{}, err
	}
	err = s.commit(ctx, audit.Event{Actor: by, Action: "provider.update", Target: "provider:" + name,
		Details: map[string]any{"fields": presentFields(req), "type": p.Type, "base_url": p.BaseURL}}, func(tx *store.Tx) error {
		return tx.UpdateProvider(ctx, p)
	})
	if err != nil {
		return ProviderView{}, notFoundAs(err, "no provider named '"+name+"'")
	}
	s.changed(ctx, name)
	return s.Get(ctx, name)
}

// Delete removes a provider and its keys.
func (s *Providers) Delete(ctx context.Context, name string, by audit.Actor) error {
	if _, ok := s.configProvider(name); ok {
		return s.readOnly(name)
	}
	err := s.commit(ctx, audit.Event{Actor: by, Action: "provider.delete", Target: "provider:" + name}, func(tx *store.Tx) error {
		return tx.DeleteProvider(ctx, name)
	})
	if err != nil {
		return notFoundAs(err, "no provider named '"+name+"'")
	}
	s.changed(ctx, name)
	return nil
}

// commit runs change and records ev in one transaction: the change is made if and only
// if its audit row is written.
func (s *Providers) commit(ctx context.Context, ev audit.Event, change func(tx *store.Tx) error) error {
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

// auditUnavailable is the error of a change refused because its audit row could not
// be written.
func auditUnavailable(err error) error {
	return apierr.New(apierr.KindGateway, 503, "service_unavailable", "audit_unavailable",
		"audit log unavailable: the change was not made; try again shortly").WithCause(err)
}

func (s *Providers) changed(ctx context.Context, name string) {
	if s.Changed != nil {
		s.Changed(ctx, name)
	}
}

// notFoundAs turns store.ErrNotFound into a 404 with msg.
func notFoundAs(err error, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.NotFound(msg)
	}
	return err
}

// applyProvider copies req's present fields into p and validates the result.
func applyProvider(p *store.Provider, req ProviderRequest) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&p.Type, req.Type)
	set(&p.BaseURL, req.BaseURL)
	set(&p.APIVersion, req.APIVersion)
	set(&p.Region, req.Region)
	if req.Headers != nil {
		p.Headers = *req.Headers
	}
	return validateProvider(p)
}

// validateProvider applies the config file's rules for providers.
func validateProvider(p *store.Provider) error {
	if !validProviderName(p.Name) {
		return apierr.InvalidValue("name", "a provider name may only contain letters, digits, '.', '_' and '-'")
	}
	switch {
	case p.Type == "":
		return apierr.MissingField("type")
	case !registry.Known(p.Type):
		return apierr.InvalidValue("type", fmt.Sprintf("unknown provider type '%s' (known: %s)", p.Type, strings.Join(registry.Types(), ", ")))
	}
	if p.BaseURL != "" {
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return apierr.InvalidValue("base_url", "base_url must be an absolute http:// or https:// URL without credentials")
		}
	}
	for name := range p.Headers {
		if slices.Contains(credentialHeaders, strings.ToLower(name)) {
			return apierr.InvalidValue("headers", "credentials are not allowed in headers; add them as provider keys")
		}
	}
	return nil
}

func validProviderName(s string) bool {
	return s != "" && len(s) <= 64 && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')
	}) < 0
}

// presentFields names the fields a PATCH changed, for the audit log.
func presentFields(req ProviderRequest) []string {
	var f []string
	for name, present := range map[string]bool{"type": req.Type != nil, "base_url": req.BaseURL != nil,
		"api_version": req.APIVersion != nil, "region": req.Region != nil, "headers": req.Headers != nil} {
		if present {
			f = append(f, name)
		}
	}
	slices.Sort(f)
	return f
}

func configView(p configs.Provider) ProviderView {
	return ProviderView{Name: p.Name, Type: p.Type, BaseURL: p.BaseURL, APIVersion: p.APIVersion, Region: p.Region,
		Headers: p.Headers, Source: "config", Keys: len(p.Keys)}
}

func storedView(p *store.Provider, keys int) ProviderView {
	return ProviderView{Name: p.Name, Type: p.Type, BaseURL: p.BaseURL, APIVersion: p.APIVersion, Region: p.Region,
		Headers: p.Headers, Source: "api", Keys: keys, CreatedBy: p.CreatedBy, CreatedAt: &p.CreatedAt, UpdatedAt: &p.UpdatedAt}
}
