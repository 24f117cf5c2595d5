package server

import (
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-llm/tollgate/apierr"
)

// decodeJSON reads a JSON admin request body strictly.
func (s *Server) decodeJSON(c *gin.Context, v any) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return apierr.InvalidJSON("We could not parse the JSON body of your request: " + jsonProblem(err))
	}
	return nil
}

// jsonProblem describes a JSON error without echoing the input, which may hold secrets.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		return "field '" + e.Field + "' must be " + e.Type.String()
	case *json.SyntaxError:
		return "syntax error at byte " + strconv.FormatInt(e.Offset, 10)
	}
	return "invalid JSON"
}
