package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
)

// ProjectService is the admin API's project service (admin.Projects).
type ProjectService interface {
	Create(ctx context.Context, actor audit.Actor, req admin.ProjectRequest) (admin.ProjectView, error)
	Get(ctx context.Context, name string) (admin.ProjectView, error)
	List(ctx context.Context, after string, limit int) ([]admin.ProjectView, error)
	Update(ctx context.Context, actor audit.Actor, name string, p admin.ProjectPatch) (admin.ProjectView, error)
	Delete(ctx context.Context, actor audit.Actor, name string) error
}

// TokenService is the admin API's admin token service (admin.Tokens).
type TokenService interface {
	Create(ctx context.Context, actor audit.Actor, req keys.TokenRequest) (keys.TokenView, error)
	List(ctx context.Context) ([]keys.TokenView, error)
	Delete(ctx context.Context, actor audit.Actor, id string) error
	AuthFailed(ctx context.Context, actor audit.Actor, reason string) error
}

func (s *Server) projectRoutes(adm *gin.RouterGroup) {
	ps := s.Projects
	if ps == nil {
		return
	}
	adm.POST("/projects", withBody(s, http.StatusCreated, func(c *gin.Context, req admin.ProjectRequest) (any, error) {
		return ps.Create(c.Request.Context(), actor(c), req)
	}))
	adm.GET("/projects", func(c *gin.Context) {
		limit := pageLimit(c)
		rows, err := ps.List(c.Request.Context(), c.Query("cursor"), limit+1)
		answerPage(c, rows, err, limit, func(p admin.ProjectView) string { return p.Name })
	})
	adm.GET("/projects/:name", func(c *gin.Context) {
		v, err := ps.Get(c.Request.Context(), c.Param("name"))
		answer(c, http.StatusOK, v, err)
	})
	adm.PATCH("/projects/:name", withBody(s, http.StatusOK, func(c *gin.Context, p admin.ProjectPatch) (any, error) {
		return ps.Update(c.Request.Context(), actor(c), c.Param("name"), p)
	}))
	adm.DELETE("/projects/:name", noContent(func(c *gin.Context) error {
		return ps.Delete(c.Request.Context(), actor(c), c.Param("name"))
	}))
}

func (s *Server) tokenRoutes(adm *gin.RouterGroup) {
	ts := s.AdminTokens
	if ts == nil {
		return
	}
	adm.POST("/admin-tokens", withBody(s, http.StatusCreated, func(c *gin.Context, req keys.TokenRequest) (any, error) {
		return ts.Create(c.Request.Context(), actor(c), req)
	}))
	adm.GET("/admin-tokens", func(c *gin.Context) {
		rows, err := ts.List(c.Request.Context())
		answer(c, http.StatusOK, gin.H{"data": rows, "next_cursor": ""}, err)
	})
	adm.DELETE("/admin-tokens/:id", noContent(func(c *gin.Context) error {
		return ts.Delete(c.Request.Context(), actor(c), c.Param("id"))
	}))
}

// currentKey answers GET /v1/key: the calling key, never a secret.
func (s *Server) currentKey(c *gin.Context) {
	v, err := s.selfView(c.Request.Context(), info(c).principal)
	answer(c, http.StatusOK, v, err)
}

// mintKey answers POST /v1/keys/ephemeral.
func (s *Server) mintKey(c *gin.Context, req keys.MintRequest) (any, error) {
	if err := s.withRemaining(c.Request.Context(), info(c).principal, &req); err != nil {
		return nil, err
	}
	return s.Mint.Mint(c.Request.Context(), actor(c), info(c).principal, req)
}
