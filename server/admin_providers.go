package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
)

// ProviderAdmin manages providers and their keys for the admin API.
type ProviderAdmin interface {
	List(ctx context.Context) ([]admin.ProviderView, error)
	Get(ctx context.Context, name string) (admin.ProviderView, error)
	Create(ctx context.Context, req admin.ProviderRequest, by audit.Actor) (admin.ProviderView, error)
	Update(ctx context.Context, name string, req admin.ProviderRequest, by audit.Actor) (admin.ProviderView, error)
	Delete(ctx context.Context, name string, by audit.Actor) error
	ListKeys(ctx context.Context, provider string) ([]admin.KeyView, error)
	AddKey(ctx context.Context, provider string, req admin.KeyRequest, by audit.Actor) (admin.KeyView, error)
	UpdateKey(ctx context.Context, provider, id string, req admin.KeyRequest, by audit.Actor) (admin.KeyView, error)
	DeleteKey(ctx context.Context, provider, id string, by audit.Actor) error
	RotateKey(ctx context.Context, provider, id string, req admin.KeyRequest, by audit.Actor) (admin.KeyView, error)
}

var _ ProviderAdmin = (*admin.Providers)(nil)

// providerRoutes registers the provider admin routes.
func (s *Server) providerRoutes(g *gin.RouterGroup) {
	g.POST("/providers", s.createProvider)
	g.GET("/providers", s.listProviders)
	g.GET("/providers/:name", s.getProvider)
	g.PATCH("/providers/:name", s.updateProvider)
	g.DELETE("/providers/:name", s.deleteProvider)
	g.POST("/providers/:name/keys", s.addProviderKey)
	g.GET("/providers/:name/keys", s.listProviderKeys)
	g.PATCH("/providers/:name/keys/:id", s.updateProviderKey)
	g.DELETE("/providers/:name/keys/:id", s.deleteProviderKey)
	g.POST("/providers/:name/keys/:id/rotate", s.rotateProviderKey)
}

func (s *Server) listProviders(c *gin.Context) {
	v, err := s.Providers.List(c.Request.Context())
	answer(c, http.StatusOK, gin.H{"data": v, "next_cursor": ""}, err)
}

func (s *Server) getProvider(c *gin.Context) {
	v, err := s.Providers.Get(c.Request.Context(), c.Param("name"))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) createProvider(c *gin.Context) {
	var req admin.ProviderRequest
	if err := s.decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	v, err := s.Providers.Create(c.Request.Context(), req, actor(c))
	answer(c, http.StatusCreated, v, err)
}

func (s *Server) updateProvider(c *gin.Context) {
	var req admin.ProviderRequest
	if err := s.decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	v, err := s.Providers.Update(c.Request.Context(), c.Param("name"), req, actor(c))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) deleteProvider(c *gin.Context) {
	err := s.Providers.Delete(c.Request.Context(), c.Param("name"), actor(c))
	answer(c, http.StatusOK, gin.H{"deleted": true, "name": c.Param("name")}, err)
}

func (s *Server) listProviderKeys(c *gin.Context) {
	v, err := s.Providers.ListKeys(c.Request.Context(), c.Param("name"))
	answer(c, http.StatusOK, gin.H{"data": v, "next_cursor": ""}, err)
}

// keyRequest decodes a provider key body.
func (s *Server) keyRequest(c *gin.Context) (admin.KeyRequest, bool) {
	var req admin.KeyRequest
	if err := s.decodeJSON(c, &req); err != nil {
		writeError(c, err)
		return req, false
	}
	return req, true
}

func (s *Server) addProviderKey(c *gin.Context) {
	if req, ok := s.keyRequest(c); ok {
		v, err := s.Providers.AddKey(c.Request.Context(), c.Param("name"), req, actor(c))
		answer(c, http.StatusCreated, v, err)
	}
}

func (s *Server) updateProviderKey(c *gin.Context) {
	if req, ok := s.keyRequest(c); ok {
		v, err := s.Providers.UpdateKey(c.Request.Context(), c.Param("name"), c.Param("id"), req, actor(c))
		answer(c, http.StatusOK, v, err)
	}
}

func (s *Server) deleteProviderKey(c *gin.Context) {
	err := s.Providers.DeleteKey(c.Request.Context(), c.Param("name"), c.Param("id"), actor(c))
	answer(c, http.StatusOK, gin.H{"deleted": true, "id": c.Param("id")}, err)
}

func (s *Server) rotateProviderKey(c *gin.Context) {
	if req, ok := s.keyRequest(c); ok {
		v, err := s.Providers.RotateKey(c.Request.Context(), c.Param("name"), c.Param("id"), req, actor(c))
		answer(c, http.StatusCreated, v, err)
	}
}
