package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
)

// AnomalyLister lists the stored findings of the anomaly detectors; *store.DB is one.
type AnomalyLister = admin.AnomalyStore

// anomalyRoutes registers GET /admin/v1/anomalies when the findings are stored.
func (s *Server) anomalyRoutes(g *gin.RouterGroup) {
	if s.Anomalies != nil {
		g.GET("/anomalies", s.listAnomalies)
	}
}

func (s *Server) listAnomalies(c *gin.Context) {
	p, err := admin.ListAnomalies(c.Request.Context(), s.Anomalies, admin.AnomalyQuery{From: c.Query("from"),
		To: c.Query("to"), KeyID: c.Query("key_id"), Severity: c.Query("severity"), Cursor: c.Query("cursor"),
		Limit: c.Query("limit")})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}
