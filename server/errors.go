package server

import (
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/apierr"
)

// errorBody is OpenAI's error shape; param and code are null when empty.
type errorBody struct {
	Error errorFields `json:"error"`
}

type errorFields struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// errorJSON renders an error in OpenAI's shape.
func errorJSON(e *apierr.Error) []byte {
	b, _ := json.Marshal(errorBody{Error: errorFields{Message: e.Message, Type: e.Type,
		Param: nullable(e.Param), Code: nullable(e.Code)}})
	return b
}

// writeError answers with err in OpenAI's shape. It is the only place an error becomes
// an HTTP status.
func writeError(c *gin.Context, err error) {
	e := apierr.From(err)
	if ri := info(c); ri != nil {
		ri.errCode = e.Code
		ri.err = err
	}
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + 999_999_999) / 1_000_000_000)
		c.Header("retry-after", strconv.FormatInt(secs, 10))
		c.Header("retry-after-ms", strconv.FormatInt(e.RetryAfter.Milliseconds(), 10))
	}
	if e.Status == 499 { // the client is gone; nothing to send
		c.Abort()
		c.Status(499)
		return
	}
	c.Data(e.Status, "application/json", errorJSON(e))
	c.Abort()
}
