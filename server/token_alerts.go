package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
)

// TokenAlertService handles signed leaked-token reports (admin.Leaks).
type TokenAlertService interface {
	Report(ctx context.Context, actor audit.Actor, keyID, signature string, body []byte) ([]admin.TokenAlertResult, error)
}

var _ TokenAlertService = (*admin.Leaks)(nil)

// The headers GitHub's secret scanning signs its reports with.
const (
	headerAlertKeyID     = "Github-Public-Key-Identifier"
	headerAlertSignature = "Github-Public-Key-Signature"
)

// tokenAlertRoutes registers POST /admin/v1/security/token-alerts. It sits outside the
// admin-token group: GitHub holds no admin token, and the report authenticates itself
// by its ECDSA signature, which the service checks before anything else. Addresses that
// keep sending bad signatures are slowed down like failed admin logins, and each
// refusal is audited as one.
func (s *Server) tokenAlertRoutes() {
	if s.TokenAlerts == nil {
		return
	}
	s.engine.POST("/admin/v1/security/token-alerts", s.limitBody, s.tokenAlerts)
}

func (s *Server) tokenAlerts(c *gin.Context) {
	ip := clientAddr(c)
	if s.throttled(c, ip) {
		return
	}
	body, err := s.readBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	res, err := s.TokenAlerts.Report(c.Request.Context(), actor(c), c.GetHeader(headerAlertKeyID),
		c.GetHeader(headerAlertSignature), body)
	if errors.Is(err, admin.ErrBadSignature) {
		if s.Throttle != nil {
			s.Throttle.Fail(ip)
		}
		s.auditAuthFailure(c, "invalid_token_alert_signature")
	}
	answer(c, http.StatusOK, res, err)
}
