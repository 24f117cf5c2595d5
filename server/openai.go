package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/schema"
)

// requiredField is the field besides model each endpoint needs.
var requiredField = map[schema.Endpoint]string{
	schema.EndpointChat:        "messages",
	schema.EndpointCompletions: "prompt",
	schema.EndpointEmbeddings:  "input",
}

// readBody reads the whole body, mapping an over-limit body to 413.
func (s *Server) readBody(c *gin.Context) ([]byte, error) {
	n := c.Request.ContentLength
	if n < 0 || n > s.opts.MaxBodyBytes {
		n = 4096
	}
	buf := make([]byte, 0, n+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := c.Request.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, apierr.TooLarge(s.opts.MaxBodyBytes)
			}
			return nil, apierr.InvalidJSON("could not read the request body").WithCause(err)
		}
	}
}

// parseRequest reads just enough of the body: the model, the stream flags and the
// output cap. Everything else stays in the bytes, untouched.
func parseRequest(ep schema.Endpoint, body []byte) (*schema.Request, error) {
	if !gjson.ValidBytes(body) {
		return nil, apierr.InvalidJSON("We could not parse the JSON body of your request. The body must be valid JSON.")
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, apierr.InvalidJSON("The request body must be a JSON object.")
	}
	r := root.Get("model")
	switch {
	case !r.Exists():
		return nil, apierr.MissingField("model")
	case r.Type != gjson.String || r.Str == "":
		return nil, apierr.InvalidValue("model", "'model' must be a non-empty string")
	}
	req := &schema.Request{Endpoint: ep, Model: r.Str, Body: body}
	if f := requiredField[ep]; !root.Get(f).Exists() {
		return nil, apierr.MissingField(f)
	}
	if st := root.Get("stream"); st.Exists() {
		if st.Type != gjson.True && st.Type != gjson.False && st.Type != gjson.Null {
			return nil, apierr.InvalidValue("stream", "'stream' must be a boolean")
		}
		req.Stream = st.Type == gjson.True
	}
	if ep == schema.EndpointEmbeddings && req.Stream {
		return nil, apierr.InvalidValue("stream", "embeddings cannot be streamed")
	}
	req.IncludeUsage = req.Stream && root.Get("stream_options.include_usage").Type == gjson.True
	for _, f := range []string{"max_completion_tokens", "max_tokens"} {
		if v := root.Get(f); v.Type == gjson.Number {
			req.MaxTokens = v.Int()
			break
		}
	}
	return req, nil
}

// inference handles chat, completions and embeddings.
func (s *Server) inference(ep schema.Endpoint) gin.HandlerFunc {
	return func(c *gin.Context) {
		ri := info(c)
		ri.endpoint = string(ep)
		body, err := s.readBody(c)
		if err != nil {
			writeError(c, err)
			return
		}
		req, err := parseRequest(ep, body)
		if err != nil {
			writeError(c, err)
			return
		}
		req.ID = ri.id
		ri.model, ri.stream = req.Model, req.Stream
		if err := s.authorize(ri.principal, ep, req.Model); err != nil {
			writeError(c, err)
			return
		}
		adm, err := s.admit(c, ri, req)
		if err != nil {
			writeError(c, err)
			return
		}
		if req.Stream {
			s.stream(c, ri, req, adm)
			return
		}
		ctx := c.Request.Context()
		resp, meta, err := s.Router.Complete(ctx, req)
		ri.provider, ri.upstream, ri.attempts = meta.Provider, meta.UpstreamModel, meta.Attempts
		setRouteHeaders(c, meta.Provider, meta.UpstreamModel, meta.Attempts)
		if err != nil {
			writeError(c, err)
			adm.finish(ctx, ri, statusOf(err), schema.Usage{}, false, false)
			return
		}
		ri.prompt, ri.complete = resp.Usage.PromptTokens, resp.Usage.CompletionTokens
		if !resp.HasUsage {
			adm.count(req.Model, resp.Body)
		}
		c.Header("Content-Length", strconv.Itoa(len(resp.Body)))
		c.Data(http.StatusOK, "application/json", resp.Body)
		adm.finish(ctx, ri, http.StatusOK, resp.Usage, resp.HasUsage, false)
		s.recordUsage(ri)
		// The answer is whole and billed: send it now rather than after the access log
		// line is formatted and written, which the client need not wait for.
		c.Writer.Flush()
	}
}

// authorize checks the key's endpoint and model scopes, then that the model exists.
// An out-of-scope model answers 403 only if it exists; otherwise 404, so scopes do not
// reveal which models exist.
func (s *Server) authorize(p *keys.Principal, ep schema.Endpoint, model string) error {
	if !p.AllowsEndpoint(ep) {
		return apierr.Permission("endpoint_not_allowed", "This key may not call the "+string(ep)+" endpoint.")
	}
	if _, ok := s.Router.Lookup(model); !ok {
		return apierr.ModelNotFound(model)
	}
	if !p.AllowsModel(model) {
		return apierr.Permission("model_not_allowed", "This key may not use the model '"+model+"'.").WithParam("model")
	}
	return nil
}

func setRouteHeaders(c *gin.Context, provider, model string, attempts int) {
	if attempts == 0 {
		return
	}
	h := c.Writer.Header()
	h.Set("x-tollgate-provider", provider)
	h.Set("x-tollgate-model", model)
	h.Set("x-tollgate-attempts", strconv.Itoa(attempts))
}

func (s *Server) recordUsage(ri *reqInfo) {
	if s.metrics != nil {
		s.metrics.Tokens(ri.model, ri.provider, ri.prompt, ri.complete)
	}
}

// modelObject is one entry of /v1/models.
type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) visibleModels(p *keys.Principal) []modelObject {
	out := []modelObject{}
	for _, rt := range s.Router.Routes() {
		if !p.AllowsModel(rt.Name) {
			continue
		}
		owner := "tollgate"
		if len(rt.Targets) > 0 {
			owner = rt.Targets[0].Deployment.Name
		}
		out = append(out, modelObject{ID: rt.Name, Object: "model", Created: rt.Created.Unix(), OwnedBy: owner})
	}
	return out
}

func (s *Server) listModels(c *gin.Context) {
	p := info(c).principal
	if !p.AllowsEndpoint(schema.EndpointModels) {
		writeError(c, apierr.Permission("endpoint_not_allowed", "This key may not call the models endpoint."))
		return
	}
	c.JSON(http.StatusOK, gin.H{"object": "list", "data": s.visibleModels(p)})
}

func (s *Server) getModel(c *gin.Context) {
	p := info(c).principal
	name := strings.TrimPrefix(c.Param("model"), "/")
	if !p.AllowsEndpoint(schema.EndpointModels) {
		writeError(c, apierr.Permission("endpoint_not_allowed", "This key may not call the models endpoint."))
		return
	}
	for _, m := range s.visibleModels(p) {
		if m.ID == name {
			c.JSON(http.StatusOK, m)
			return
		}
	}
	writeError(c, apierr.ModelNotFound(name))
}
