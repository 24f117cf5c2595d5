package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
)

// VaultAdmin reports on the vault and rotates its KEK.
type VaultAdmin interface {
	Status(ctx context.Context) (admin.VaultStatus, error)
	Rotate(ctx context.Context, by audit.Actor) (admin.RotateResult, error)
}

// VaultDeps are what the provider, vault and audit routes need.
type VaultDeps struct {
	// Audit is the audit log's read side.
	Audit admin.AuditReader
	// Vault is the vault admin service.
	Vault VaultAdmin
	// Providers is the provider admin service.
	Providers ProviderAdmin
}

// vaultRoutes registers the provider, vault and audit admin routes.
func (s *Server) vaultRoutes(g *gin.RouterGroup) {
	if s.Audit != nil {
		s.auditRoutes(g)
	}
	if s.Vault != nil {
		g.GET("/vault/status", s.vaultStatus)
		g.POST("/vault/rotate", s.rotateVault)
	}
	if s.Providers != nil {
		s.providerRoutes(g)
	}
}

func (s *Server) vaultStatus(c *gin.Context) {
	st, err := s.Vault.Status(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) rotateVault(c *gin.Context) {
	res, err := s.Vault.Rotate(c.Request.Context(), actor(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
