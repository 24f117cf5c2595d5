package export

import (
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/telemetry"
)

// OCSFVersion is the OCSF schema version the events follow.
const OCSFVersion = "1.3.0"

// ocsfClass is an event class and its category.
type ocsfClass struct {
	uid, category      int
	name, categoryName string
}

// The classes tollgate writes.
var (
	apiActivityClass    = ocsfClass{6003, 6, "API Activity", "Application Activity"}
	authenticationClass = ocsfClass{3002, 3, "Authentication", "Identity & Access Management"}
)

// OCSF status ids.
const (
	statusSuccess = 1
	statusFailure = 2
)

var (
	apiActivities = map[int]string{1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"}
	severities    = map[int]string{1: "Informational", 2: "Low", 3: "Medium", 4: "High"}
)

// ocsfEvent is the base of every event: the classification, occurrence, status and
// metadata attributes, and unmapped for what OCSF has no place for.
type ocsfEvent struct {
	ActivityID   int            `json:"activity_id"`
	ActivityName string         `json:"activity_name"`
	CategoryUID  int            `json:"category_uid"`
	CategoryName string         `json:"category_name"`
	ClassUID     int            `json:"class_uid"`
	ClassName    string         `json:"class_name"`
	TypeUID      int            `json:"type_uid"`
	TypeName     string         `json:"type_name"`
	SeverityID   int            `json:"severity_id"`
	Severity     string         `json:"severity"`
	StatusID     int            `json:"status_id"`
	Status       string         `json:"status"`
	StatusCode   string         `json:"status_code,omitempty"`
	StatusDetail string         `json:"status_detail,omitempty"`
	Time         int64          `json:"time"`
	Duration     int64          `json:"duration,omitempty"`
	Message      string         `json:"message,omitempty"`
	Metadata     ocsfMetadata   `json:"metadata"`
	Unmapped     map[string]any `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version        string      `json:"version"`
	Product        ocsfProduct `json:"product"`
	UID            string      `json:"uid,omitempty"`
	CorrelationUID string      `json:"correlation_uid,omitempty"`
	LogName        string      `json:"log_name"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

type ocsfUser struct {
	UID    string      `json:"uid,omitempty"`
	Name   string      `json:"name,omitempty"`
	Type   string      `json:"type,omitempty"`
	TypeID int         `json:"type_id,omitempty"`
	Groups []ocsfGroup `json:"groups,omitempty"`
}

type ocsfGroup struct {
	Name string `json:"name"`
}

type ocsfEndpoint struct {
	IP   string `json:"ip,omitempty"`
	Name string `json:"name,omitempty"`
}

type ocsfHTTPRequest struct {
	Method    string  `json:"http_method,omitempty"`
	UserAgent string  `json:"user_agent,omitempty"`
	URL       ocsfURL `json:"url"`
}

type ocsfURL struct {
	Path string `json:"path,omitempty"`
}

type ocsfAPI struct {
	Operation string           `json:"operation"`
	Service   ocsfService      `json:"service"`
	Request   *ocsfAPIRequest  `json:"request,omitempty"`
	Response  *ocsfAPIResponse `json:"response,omitempty"`
}

type ocsfService struct {
	Name string `json:"name"`
}

type ocsfAPIRequest struct {
	UID string `json:"uid"`
}

type ocsfAPIResponse struct {
	Code  int    `json:"code"`
	Error string `json:"error,omitempty"`
}

type ocsfResource struct {
	UID  string `json:"uid"`
	Type string `json:"type,omitempty"`
}

// apiActivity is OCSF API Activity (6003).
type apiActivity struct {
	ocsfEvent
	Actor        ocsfActor         `json:"actor"`
	API          ocsfAPI           `json:"api"`
	SrcEndpoint  ocsfEndpoint      `json:"src_endpoint"`
	HTTPRequest  *ocsfHTTPRequest  `json:"http_request,omitempty"`
	HTTPResponse *ocsfHTTPResponse `json:"http_response,omitempty"`
	Resources    []ocsfResource    `json:"resources,omitempty"`
}

type ocsfActor struct {
	User ocsfUser `json:"user"`
}

type ocsfHTTPResponse struct {
	Code int `json:"code"`
}

// authentication is OCSF Authentication (3002).
type authentication struct {
	ocsfEvent
	User           ocsfUser         `json:"user"`
	Service        ocsfService      `json:"service"`
	SrcEndpoint    ocsfEndpoint     `json:"src_endpoint"`
	HTTPRequest    *ocsfHTTPRequest `json:"http_request,omitempty"`
	AuthProtocolID int              `json:"auth_protocol_id"`
	AuthProtocol   string           `json:"auth_protocol"`
	LogonTypeID    int              `json:"logon_type_id"`
	LogonType      string           `json:"logon_type"`
	IsRemote       bool             `json:"is_remote"`
}

// base fills the classification, occurrence, status and metadata attributes.
func (x *exporterFormat) base(c ocsfClass, activity int, activityName string, at time.Time, severity int,
	ok bool, logName string) ocsfEvent {
	e := ocsfEvent{ActivityID: activity, ActivityName: activityName, CategoryUID: c.category,
		CategoryName: c.categoryName, ClassUID: c.uid, ClassName: c.name, TypeUID: c.uid*100 + activity,
		TypeName: c.name + ": " + activityName, SeverityID: severity, Severity: severities[severity],
		StatusID: statusFailure, Status: "Failure", Time: at.UnixMilli(),
		Metadata: ocsfMetadata{Version: OCSFVersion, LogName: logName,
			Product: ocsfProduct{Name: "tollgate", VendorName: "tollgate", Version: x.version}}}
	if ok {
		e.StatusID, e.Status = statusSuccess, "Success"
	}
	return e
}

// exporterFormat holds what every OCSF event repeats.
type exporterFormat struct {
	version string
}

// ocsfRequest maps a request to API Activity, or a key refused to Authentication.
func (x *exporterFormat) ocsfRequest(f telemetry.Finished) any {
	r := logRowOf(f)
	httpReq := &ocsfHTTPRequest{Method: f.Method, UserAgent: r.UserAgent, URL: ocsfURL{Path: f.Route}}
	if f.AuthFailed {
		ev := x.authFailure(r.Time, "authentication", keyUser(r.KeyID, ""), "tollgate", r.SourceIP)
		ev.HTTPRequest = httpReq
		ev.StatusCode, ev.StatusDetail, ev.Metadata.CorrelationUID = strconv.Itoa(r.Status), r.ErrorCode, r.RequestID
		return ev
	}
	sev := 1
	switch {
	case r.Status >= 500:
		sev = 3
	case r.Status >= 400:
		sev = 2
	}
	ev := apiActivity{ocsfEvent: x.base(apiActivityClass, 1, apiActivities[1], r.Time, sev, r.Status < 400, "requests"),
		Actor: ocsfActor{User: keyUser(r.KeyID, r.Project)}, SrcEndpoint: endpoint(r.SourceIP), HTTPRequest: httpReq,
		HTTPResponse: &ocsfHTTPResponse{Code: r.Status},
		API: ocsfAPI{Operation: f.Method + " " + f.Route, Service: ocsfService{Name: "tollgate"},
			Request: &ocsfAPIRequest{UID: r.RequestID}, Response: &ocsfAPIResponse{Code: r.Status, Error: r.ErrorCode}}}
	ev.StatusCode, ev.StatusDetail, ev.Duration = strconv.Itoa(r.Status), r.ErrorCode, r.LatencyMS
	ev.Metadata.UID, ev.Metadata.CorrelationUID = r.ID, r.RequestID
	ev.Unmapped = map[string]any{"endpoint": r.Endpoint, "model": r.Model, "provider": r.Provider,
		"upstream_model": r.UpstreamModel, "stream": r.Stream, "prompt_tokens": r.PromptTokens,
		"completion_tokens": r.CompletionTokens, "cached_tokens": r.CachedTokens, "cost_usd": r.CostUSD,
		"usage_source": r.UsageSource, "ttft_ms": r.TTFTMS, "attempts": r.Attempts}
	return ev
}

// authFailure is a failed logon with an API key, as OCSF Authentication.
func (x *exporterFormat) authFailure(at time.Time, logName string, user ocsfUser, service, ip string) authentication {
	return authentication{ocsfEvent: x.base(authenticationClass, 1, "Logon", at, 3, false, logName), User: user,
		Service: ocsfService{Name: service}, SrcEndpoint: endpoint(ip), AuthProtocolID: 99, AuthProtocol: "API key",
		LogonTypeID: 3, LogonType: "Network", IsRemote: true}
}

// ocsfAudit maps an audit event to API Activity, or a refused admin token to
// Authentication.
func (x *exporterFormat) ocsfAudit(e audit.Entry) any {
	uid := "audit:" + strconv.FormatInt(e.Seq, 10)
	if e.Action == "admin.auth_failed" {
		ev := x.authFailure(e.Time, "audit", ocsfUser{UID: e.ActorID, Name: orUnknown(e.ActorName)},
			"tollgate admin API", e.SourceIP)
		ev.Metadata.UID, ev.Metadata.CorrelationUID = uid, e.RequestID
		ev.Unmapped = map[string]any{"details": e.Details}
		return ev
	}
	user := ocsfUser{UID: e.ActorID, Name: e.ActorName, Type: "Admin", TypeID: 2}
	if e.ActorID == "system" {
		user.Type, user.TypeID = "System", 3
	}
	act := auditActivity(e.Action)
	ev := apiActivity{ocsfEvent: x.base(apiActivityClass, act, apiActivities[act], e.Time, 1, true, "audit"),
		Actor: ocsfActor{User: user}, SrcEndpoint: endpoint(e.SourceIP),
		API: ocsfAPI{Operation: e.Action, Service: ocsfService{Name: "tollgate admin API"}}}
	if e.Target != "" {
		typ, _, _ := strings.Cut(e.Target, ":")
		ev.Resources = []ocsfResource{{UID: e.Target, Type: typ}}
	}
	if e.RequestID != "" {
		ev.API.Request = &ocsfAPIRequest{UID: e.RequestID}
	}
	ev.Metadata.UID, ev.Metadata.CorrelationUID = uid, e.RequestID
	ev.Unmapped = map[string]any{"details": e.Details, "hash": e.Hash, "prev_hash": e.PrevHash}
	return ev
}

// auditActivity is the API Activity activity of an audit action's verb.
func auditActivity(action string) int {
	switch verbOf(action) {
	case "create", "add", "mint", "import":
		return 1
	case "update", "rotate", "enable", "disable", "suspend", "rewrap", "threshold":
		return 3
	case "delete", "revoke", "remove":
		return 4
	}
	return 99
}

// keyUser is the OCSF user of a tollgate key: its public id, and its project as a group.
func keyUser(keyID, project string) ocsfUser {
	u := ocsfUser{UID: keyID, Type: "API key", TypeID: 4}
	if keyID == "" {
		u = ocsfUser{Name: "unknown"}
	}
	if project != "" {
		u.Groups = []ocsfGroup{{Name: project}}
	}
	return u
}

// endpoint is a source endpoint; OCSF needs at least one identifying attribute.
func endpoint(ip string) ocsfEndpoint {
	if ip == "" {
		return ocsfEndpoint{Name: "tollgate"}
	}
	return ocsfEndpoint{IP: ip}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
