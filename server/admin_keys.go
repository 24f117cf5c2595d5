package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store"
)

// KeyLifecycle is the admin API's key service (admin.Keys).
type KeyLifecycle interface {
	Create(ctx context.Context, actor audit.Actor, req keys.CreateRequest) (keys.KeyView, error)
	Get(ctx context.Context, id string) (keys.KeyView, error)
	List(ctx context.Context, f store.KeyFilter) ([]keys.KeyView, error)
	Update(ctx context.Context, actor audit.Actor, id string, p keys.Patch) (keys.KeyView, error)
	Rotate(ctx context.Context, actor audit.Actor, id, grace string) (keys.KeyView, error)
	SetStatus(ctx context.Context, actor audit.Actor, id string, enable bool) (keys.KeyView, error)
	Revoke(ctx context.Context, actor audit.Actor, id, reason string) (keys.KeyView, error)
	RevokeBulk(ctx context.Context, actor audit.Actor, b admin.BulkRevoke) (admin.BulkResult, error)
	Delete(ctx context.Context, actor audit.Actor, id string) error
}

// Minter mints ephemeral child keys (admin.Keys).
type Minter interface {
	Mint(ctx context.Context, actor audit.Actor, parent *keys.Principal, req keys.MintRequest) (keys.MintView, error)
}

// KeyDeps are what the key lifecycle routes need.
type KeyDeps struct {
	KeyService  KeyLifecycle
	Mint        Minter
	Projects    ProjectService
	AdminTokens TokenService
	// Throttle slows down repeated authentication failures per address; nil: none.
	Throttle *keys.Throttle
	// Now is the clock of GET /v1/key's budget periods; nil means time.Now.
	Now func() time.Time
}

func (s *Server) clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// keyRoutes registers the client-facing key routes under /v1 and the admin key routes.
func (s *Server) keyRoutes(v1 *gin.RouterGroup, adm *gin.RouterGroup) {
	v1.GET("/key", s.currentKey)
	if s.Mint != nil {
		v1.POST("/keys/ephemeral", withBody(s, http.StatusCreated, s.mintKey))
	}
	if s.KeyService == nil {
		return // no admin key routes without the audited service
	}
	ks := s.KeyService
	adm.POST("/keys", withBody(s, http.StatusCreated, func(c *gin.Context, req keys.CreateRequest) (any, error) {
		return ks.Create(c.Request.Context(), actor(c), req)
	}))
	adm.GET("/keys", s.listKeys)
	adm.POST("/keys/revoke", withBody(s, http.StatusOK, func(c *gin.Context, req admin.BulkRevoke) (any, error) {
		return ks.RevokeBulk(c.Request.Context(), actor(c), req)
	}))
	adm.GET("/keys/:id", func(c *gin.Context) {
		v, err := ks.Get(c.Request.Context(), c.Param("id"))
		answer(c, http.StatusOK, v, err)
	})
	adm.PATCH("/keys/:id", withBody(s, http.StatusOK, func(c *gin.Context, p keys.Patch) (any, error) {
		return ks.Update(c.Request.Context(), actor(c), c.Param("id"), p)
	}))
	adm.DELETE("/keys/:id", noContent(func(c *gin.Context) error {
		return ks.Delete(c.Request.Context(), actor(c), c.Param("id"))
	}))
	adm.POST("/keys/:id/rotate", withBody(s, http.StatusOK, func(c *gin.Context, req struct {
		Grace string `json:"grace"`
	}) (any, error) {
		return ks.Rotate(c.Request.Context(), actor(c), c.Param("id"), req.Grace)
	}))
	adm.POST("/keys/:id/revoke", withBody(s, http.StatusOK, func(c *gin.Context, req struct {
		Reason string `json:"reason"`
	}) (any, error) {
		return ks.Revoke(c.Request.Context(), actor(c), c.Param("id"), req.Reason)
	}))
	for path, enable := range map[string]bool{"/keys/:id/disable": false, "/keys/:id/enable": true} {
		adm.POST(path, func(c *gin.Context) {
			v, err := ks.SetStatus(c.Request.Context(), actor(c), c.Param("id"), enable)
			answer(c, http.StatusOK, v, err)
		})
	}
	s.projectRoutes(adm)
	s.tokenRoutes(adm)
}

// actor is who makes an admin call, for the audit log.
func actor(c *gin.Context) audit.Actor {
	ri := info(c)
	a := audit.Actor{SourceIP: ri.clientIP, RequestID: ri.id}
	if p := ri.principal; p != nil {
		a.ID, a.Name = p.ID, p.Name
	}
	return a
}

// withBody is a handler that decodes a strict JSON body of type T (see admin.Decode),
// calls fn and answers what it returns with status.
func withBody[T any](s *Server, status int, fn func(c *gin.Context, req T) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var req T
		body, err := s.readBody(c)
		if err == nil {
			err = admin.Decode(body, &req)
		}
		if err != nil {
			writeError(c, err)
			return
		}
		v, err := fn(c, req)
		answer(c, status, v, err)
	}
}

// noContent is a handler that answers 204 when fn succeeds.
func noContent(fn func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			writeError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// answer writes v with status, or the error.
func answer(c *gin.Context, status int, v any, err error) {
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(status, v)
}

// pageLimit reads ?limit= (default 100, at most 1000).
func pageLimit(c *gin.Context) int {
	limit, _ := strconv.Atoi(c.DefaultQuery("limit", "100"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return limit
}

// answerPage answers a list read with limit+1 rows: at most limit of them, and the
// cursor of the next page when there is one.
func answerPage[T any](c *gin.Context, rows []T, err error, limit int, cursor func(T) string) {
	if err != nil {
		writeError(c, err)
		return
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = cursor(rows[limit-1])
	}
	c.JSON(http.StatusOK, gin.H{"data": rows, "next_cursor": next})
}

func (s *Server) listKeys(c *gin.Context) {
	limit := pageLimit(c)
	f := store.KeyFilter{Project: c.Query("project"), Owner: c.Query("owner"), Status: c.Query("status"),
		CreatedBy: c.Query("created_by"), ParentID: c.Query("parent_id"), After: c.Query("cursor"), Limit: limit + 1}
	rows, err := s.KeyService.List(c.Request.Context(), f)
	answerPage(c, rows, err, limit, func(k keys.KeyView) string { return k.ID })
}
