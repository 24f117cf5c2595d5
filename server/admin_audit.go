package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
)

// auditRoutes registers the audit log routes.
func (s *Server) auditRoutes(g *gin.RouterGroup) {
	g.GET("/audit", s.listAudit)
	g.GET("/audit/verify", s.verifyAudit)
}

func (s *Server) listAudit(c *gin.Context) {
	p, err := admin.ListAudit(c.Request.Context(), s.Audit, admin.AuditQuery{From: c.Query("from"), To: c.Query("to"),
		Actor: c.Query("actor"), Action: c.Query("action"), Cursor: c.Query("cursor"), Limit: c.Query("limit")})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// verifyAudit answers 200 with the result, intact or not: a broken chain is a finding,
// not a failure of the request.
func (s *Server) verifyAudit(c *gin.Context) {
	res, err := s.Audit.Verify(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}
