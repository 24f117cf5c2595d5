package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
)

// ModelAdmin is the model (route) admin service.
type ModelAdmin interface {
	List(ctx context.Context) ([]admin.ModelView, error)
	Get(ctx context.Context, name string) (admin.ModelView, error)
	Create(ctx context.Context, spec admin.ModelSpec, by audit.Actor) (admin.ModelView, error)
	Update(ctx context.Context, name string, p admin.ModelPatch, by audit.Actor) (admin.ModelView, error)
	Delete(ctx context.Context, name string, by audit.Actor) error
}

var _ ModelAdmin = (*admin.Models)(nil)

// ModelDeps are what the model admin routes need.
type ModelDeps struct {
	Models ModelAdmin
}

// modelRoutes registers the model (route) admin routes. Model names may contain
// slashes ("meta-llama/Llama-3.3-70B"), so the name is the rest of the path.
func (s *Server) modelRoutes(admin *gin.RouterGroup) {
	if s.Models == nil {
		return
	}
	admin.GET("/models", s.listModelsAdmin)
	admin.POST("/models", s.createModel)
	admin.GET("/models/*name", s.getModelAdmin)
	admin.PATCH("/models/*name", s.updateModel)
	admin.DELETE("/models/*name", s.deleteModel)
}

func modelName(c *gin.Context) string { return strings.TrimPrefix(c.Param("name"), "/") }

func (s *Server) listModelsAdmin(c *gin.Context) {
	views, err := s.Models.List(c.Request.Context())
	if views == nil {
		views = []admin.ModelView{}
	}
	answer(c, http.StatusOK, gin.H{"data": views, "next_cursor": ""}, err)
}

func (s *Server) getModelAdmin(c *gin.Context) {
	v, err := s.Models.Get(c.Request.Context(), modelName(c))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) createModel(c *gin.Context) {
	var spec admin.ModelSpec
	if err := s.decodeJSON(c, &spec); err != nil {
		writeError(c, err)
		return
	}
	v, err := s.Models.Create(c.Request.Context(), spec, actor(c))
	answer(c, http.StatusCreated, v, err)
}

func (s *Server) updateModel(c *gin.Context) {
	var p admin.ModelPatch
	if err := s.decodeJSON(c, &p); err != nil {
		writeError(c, err)
		return
	}
	v, err := s.Models.Update(c.Request.Context(), modelName(c), p, actor(c))
	answer(c, http.StatusOK, v, err)
}

// deleteModel answers like a provider's deletion: 200 with what was deleted.
func (s *Server) deleteModel(c *gin.Context) {
	err := s.Models.Delete(c.Request.Context(), modelName(c), actor(c))
	answer(c, http.StatusOK, gin.H{"deleted": true, "name": modelName(c)}, err)
}
