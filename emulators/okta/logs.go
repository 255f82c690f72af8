package okta

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/seed"
)

// logEvent is an Okta System Log LogEvent, stored as it is served.
type logEvent struct {
	Actor                 logActor        `json:"actor"`
	Client                logClient       `json:"client"`
	Device                any             `json:"device"`
	AuthenticationContext logAuthContext  `json:"authenticationContext"`
	DisplayMessage        string          `json:"displayMessage"`
	EventType             string          `json:"eventType"`
	Outcome               logOutcome      `json:"outcome"`
	Published             oktaTime        `json:"published"`
	SecurityContext       logSecurity     `json:"securityContext"`
	Severity              string          `json:"severity"`
	DebugContext          logDebugContext `json:"debugContext"`
	LegacyEventType       *string         `json:"legacyEventType"`
	Transaction           logTransaction  `json:"transaction"`
	UUID                  string          `json:"uuid"`
	Version               string          `json:"version"`
	Request               logRequest      `json:"request"`
	Target                []logTarget     `json:"target"`

	// Given is the event as POST /_emulator/events gave it (with the uuid
	// added when it lacked one): what the System Log serves for it. The
	// fields above are read from it for the queries. Empty for the events
	// the emulator wrote itself.
	Given json.RawMessage `json:"given,omitempty"`
}

type logActor struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	AlternateID string         `json:"alternateId"`
	DisplayName string         `json:"displayName"`
	DetailEntry map[string]any `json:"detailEntry"`
}

type logTarget = logActor

type logClient struct {
	UserAgent           *logUserAgent `json:"userAgent"`
	Zone                string        `json:"zone"`
	Device              string        `json:"device"`
	ID                  *string       `json:"id"`
	IPAddress           string        `json:"ipAddress"`
	GeographicalContext any           `json:"geographicalContext"`
}

type logUserAgent struct {
	RawUserAgent string `json:"rawUserAgent"`
	OS           string `json:"os"`
	Browser      string `json:"browser"`
}

type logOutcome struct {
	Result string  `json:"result"`
	Reason *string `json:"reason"`
}

type logAuthContext struct {
	AuthenticationProvider *string `json:"authenticationProvider"`
	CredentialProvider     *string `json:"credentialProvider"`
	CredentialType         *string `json:"credentialType"`
	Issuer                 any     `json:"issuer"`
	Interface              *string `json:"interface"`
	AuthenticationStep     int     `json:"authenticationStep"`
	ExternalSessionID      string  `json:"externalSessionId"`
}

type logSecurity struct {
	AsNumber *int    `json:"asNumber"`
	AsOrg    *string `json:"asOrg"`
	ISP      *string `json:"isp"`
	Domain   *string `json:"domain"`
	IsProxy  *bool   `json:"isProxy"`
}

type logDebugContext struct {
	DebugData map[string]string `json:"debugData"`
}

type logTransaction struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Detail map[string]any `json:"detail"`
}

type logRequest struct {
	IPChain []logIP `json:"ipChain"`
}

type logIP struct {
	IP      string  `json:"ip"`
	Version string  `json:"version"`
	Source  *string `json:"source"`
}

// displayMessages are the messages Okta shows for the event types the
// emulator writes.
var displayMessages = map[string]string{
	"user.session.start":               "User login to Okta",
	"user.session.end":                 "User logout from Okta",
	"user.authentication.sso":          "User single sign on to app",
	"user.authentication.auth":         "Authenticate user",
	"user.authentication.auth_via_mfa": "Authentication of user via MFA",
	"user.lifecycle.suspend":           "Suspend Okta user",
	"user.lifecycle.unsuspend":         "Unsuspend Okta user",
	"user.lifecycle.deactivate":        "Deactivate Okta user",
	"user.session.clear":               "Clear user session",
	"user.mfa.factor.reset_all":        "Reset all factors for user",
	"group.user_membership.remove":     "Remove user from group membership",
	"user.account.privilege.revoke":    "User privilege revoked",
	"app.oauth2.as.consent.revoke":     "Revoke consent",
	"app.oauth2.as.token.revoke":       "OAuth2 token revocation request",
	"policy.evaluate_sign_on":          "Evaluation of sign-on policy",
	"event_hook.delivery":              "Event hook delivery",
}

var legacyTypes = map[string]string{
	"user.session.start":        "core.user_auth.login_success",
	"user.lifecycle.suspend":    "core.user.config.user_status.suspended",
	"user.lifecycle.unsuspend":  "core.user.config.user_status.unsuspended",
	"user.lifecycle.deactivate": "core.user.config.user_deactivated",
	"user.mfa.factor.reset_all": "core.user.factor.reset_all",
}

const browserUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func strp(s string) *string { return &s }

func (st *state) baseEvent(typ string, at time.Time) *logEvent {
	msg := displayMessages[typ]
	if msg == "" {
		msg = typ
	}
	e := &logEvent{
		DisplayMessage: msg,
		EventType:      typ,
		Outcome:        logOutcome{Result: "SUCCESS"},
		Published:      oktaTime{at.UTC()},
		Severity:       "INFO",
		DebugContext:   logDebugContext{DebugData: map[string]string{}},
		Transaction:    logTransaction{Type: "WEB", ID: st.newID("Wx"), Detail: map[string]any{}},
		UUID:           st.newUUID(),
		Version:        "0",
		Target:         []logTarget{},
	}
	if l, ok := legacyTypes[typ]; ok {
		e.LegacyEventType = strp(l)
	}
	return e
}

func userTarget(u *user) logTarget {
	return logTarget{ID: u.ID, Type: "User", AlternateID: u.login(), DisplayName: u.displayName()}
}

// seedEvent turns a person's seeded history into a LogEvent with the person
// as actor.
func (st *state) seedEvent(u *user, ev seed.Event) *logEvent {
	e := st.baseEvent(ev.Type, ev.At)
	e.Actor = userTarget(u)
	ip := ev.IP
	if ip == "" {
		ip = "198.51.100.1"
	}
	e.Client = logClient{UserAgent: &logUserAgent{RawUserAgent: browserUA, OS: "Mac OS X", Browser: "CHROME"}, Zone: "null", Device: "Computer", IPAddress: ip}
	e.Request = logRequest{IPChain: []logIP{{IP: ip, Version: "V4"}}}
	e.AuthenticationContext = logAuthContext{AuthenticationStep: 0, ExternalSessionID: st.newID("102")}
	if ev.Result != "" {
		e.Outcome.Result = ev.Result
	}
	if e.Outcome.Result == "FAILURE" || e.Outcome.Result == "DENY" {
		e.Severity = "WARN"
	}
	if ev.Target != "" {
		switch {
		case st.client(ev.Target) != nil:
			c := st.client(ev.Target)
			e.Target = append(e.Target, logTarget{ID: c.ID, Type: "AppInstance", AlternateID: c.Name, DisplayName: c.Name})
		case st.group(ev.Target) != nil:
			g := st.group(ev.Target)
			e.Target = append(e.Target, logTarget{ID: g.ID, Type: "UserGroup", AlternateID: "unknown", DisplayName: g.Name})
		default:
			e.Target = append(e.Target, logTarget{ID: ev.Target, Type: "Resource", AlternateID: ev.Target, DisplayName: ev.Target})
		}
	}
	return e
}

// The principals behind the emulator's API tokens. Real Okta logs the admin
// who created an API token as the actor of every call made with it; the HR
// token stands for the HR provisioning integration, an OAuth service app.
const (
	// AdminActorID is the actor.id of what is done with Options.Token
	// (offboard's token): a User, alternateId api-admin@<org domain>.
	AdminActorID   = "00uAPIADMIN000000001"
	AdminActorName = "Okta API Admin"
	// HRActorID is the actor.id (and alternateId, and client.id) of what is
	// done with Options.HRToken: a PublicClientApp.
	HRActorID   = "0oaHRPROVISIONING001"
	HRActorName = "HR Provisioning"
)

type principal int

const (
	principalAdmin principal = iota
	principalHR
)

func (p principal) actor(domain string) logActor {
	if p == principalHR {
		return logActor{ID: HRActorID, Type: "PublicClientApp", AlternateID: HRActorID, DisplayName: HRActorName}
	}
	return logActor{ID: AdminActorID, Type: "User", AlternateID: "api-admin@" + domain, DisplayName: AdminActorName}
}

// adminEvent appends an event caused by an API call, with the principal of
// the call's token as actor.
func (s *Server) adminEvent(r *http.Request, now time.Time, typ string, u *user, extra ...logTarget) *logEvent {
	st := s.St
	e := st.baseEvent(typ, now)
	who, _ := r.Context().Value(principalKey{}).(principal)
	e.Actor = who.actor(st.Domain)
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	e.Client = logClient{UserAgent: &logUserAgent{RawUserAgent: r.UserAgent(), OS: "Unknown", Browser: "UNKNOWN"}, Zone: "null", Device: "Unknown", IPAddress: ip}
	if who == principalHR {
		e.Client.ID = strp(HRActorID)
	}
	e.Request = logRequest{IPChain: []logIP{{IP: ip, Version: "V4"}}}
	e.AuthenticationContext = logAuthContext{CredentialType: strp("API_TOKEN"), AuthenticationStep: 0, ExternalSessionID: st.newID("trs")}
	e.Transaction.ID = requestID(r)
	e.DebugContext.DebugData = map[string]string{"requestId": requestID(r), "requestUri": r.URL.Path, "url": r.URL.Path}
	if u != nil {
		e.Target = append(e.Target, userTarget(u))
	}
	e.Target = append(e.Target, extra...)
	st.Events = append(st.Events, e)
	return e
}

// requestID is the X-Okta-Request-Id the API handler gave the request.
func requestID(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return id
	}
	return "unknown"
}

// logAttrs are the LogEvent attributes a filter may use.
func logAttrOK(a string) bool {
	switch a {
	case "eventType", "uuid", "severity", "published", "displayMessage", "legacyEventType", "version",
		"actor.id", "actor.type", "actor.alternateId", "actor.displayName",
		"target.id", "target.type", "target.alternateId", "target.displayName",
		"outcome.result", "outcome.reason", "client.ipAddress", "client.zone", "client.device",
		"client.userAgent.rawUserAgent", "transaction.id", "transaction.type",
		"authenticationContext.externalSessionId", "authenticationContext.credentialType":
		return true
	}
	return strings.HasPrefix(a, "debugContext.debugData.")
}

func (e *logEvent) get(a string) ([]string, bool) {
	one := func(s string) ([]string, bool) { return []string{s}, true }
	opt := func(s *string) ([]string, bool) {
		if s == nil {
			return nil, false
		}
		return []string{*s}, true
	}
	switch a {
	case "eventType":
		return one(e.EventType)
	case "uuid":
		return one(e.UUID)
	case "severity":
		return one(e.Severity)
	case "published":
		return one(e.Published.UTC().Format(oktaLayout))
	case "displayMessage":
		return one(e.DisplayMessage)
	case "legacyEventType":
		return opt(e.LegacyEventType)
	case "version":
		return one(e.Version)
	case "actor.id":
		return one(e.Actor.ID)
	case "actor.type":
		return one(e.Actor.Type)
	case "actor.alternateId":
		return one(e.Actor.AlternateID)
	case "actor.displayName":
		return one(e.Actor.DisplayName)
	case "outcome.result":
		return one(e.Outcome.Result)
	case "outcome.reason":
		return opt(e.Outcome.Reason)
	case "client.ipAddress":
		return one(e.Client.IPAddress)
	case "client.zone":
		return one(e.Client.Zone)
	case "client.device":
		return one(e.Client.Device)
	case "client.userAgent.rawUserAgent":
		if e.Client.UserAgent == nil {
			return nil, false
		}
		return one(e.Client.UserAgent.RawUserAgent)
	case "transaction.id":
		return one(e.Transaction.ID)
	case "transaction.type":
		return one(e.Transaction.Type)
	case "authenticationContext.externalSessionId":
		return one(e.AuthenticationContext.ExternalSessionID)
	case "authenticationContext.credentialType":
		return opt(e.AuthenticationContext.CredentialType)
	}
	if k, ok := strings.CutPrefix(a, "debugContext.debugData."); ok {
		v, ok := e.DebugContext.DebugData[k]
		return []string{v}, ok
	}
	if f, ok := strings.CutPrefix(a, "target."); ok {
		var vals []string
		for _, t := range e.Target {
			switch f {
			case "id":
				vals = append(vals, t.ID)
			case "type":
				vals = append(vals, t.Type)
			case "alternateId":
				vals = append(vals, t.AlternateID)
			case "displayName":
				vals = append(vals, t.DisplayName)
			}
		}
		return vals, len(vals) > 0
	}
	return nil, false
}

// keywords is what q= searches: the event's text fields.
func (e *logEvent) keywords() string {
	parts := []string{e.EventType, e.DisplayMessage, e.Actor.ID, e.Actor.AlternateID, e.Actor.DisplayName, e.Client.IPAddress, e.Outcome.Result}
	if e.Outcome.Reason != nil {
		parts = append(parts, *e.Outcome.Reason)
	}
	for _, t := range e.Target {
		parts = append(parts, t.ID, t.AlternateID, t.DisplayName)
	}
	return strings.ToLower(strings.Join(parts, " "))
}

// logCursor is a position in the (published, seq) order of events.
type logCursor struct {
	ms  int64
	seq int
}

func (c logCursor) String() string { return strconv.FormatInt(c.ms, 10) + "_" + strconv.Itoa(c.seq) }

func parseCursor(s string) (logCursor, bool) {
	a, b, ok := strings.Cut(s, "_")
	if !ok {
		return logCursor{}, false
	}
	ms, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return logCursor{}, false
	}
	return logCursor{ms, seq}, true
}

func (c logCursor) less(o logCursor) bool {
	if c.ms != o.ms {
		return c.ms < o.ms
	}
	return c.seq < o.seq
}

const invalidDate = "Bad request. Invalid date. Dates must be of the form yyyy-MM-dd'T'HH:mm:ss.SSSZZ, e.g. 2013-01-01T12:00:00.000-07:00."

func parseLogTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// serveLogs serves GET /api/v1/logs.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, now time.Time) {
	q := r.URL.Query()
	until := now
	bounded := q.Get("until") != ""
	if bounded {
		t, ok := parseLogTime(q.Get("until"))
		if !ok {
			writeError(w, http.StatusBadRequest, "E0000030", invalidDate)
			return
		}
		until = t
	}
	since := until.Add(-7 * 24 * time.Hour)
	if v := q.Get("since"); v != "" {
		t, ok := parseLogTime(v)
		if !ok {
			writeError(w, http.StatusBadRequest, "E0000030", invalidDate)
			return
		}
		since = t
	}
	limit, ok := parseLimit(q.Get("limit"), s.logPage, 1000)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a number between 1 and 1000")
		return
	}
	desc := false
	switch strings.ToUpper(q.Get("sortOrder")) {
	case "", "ASCENDING":
	case "DESCENDING":
		desc = true
	default:
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: sortOrder", "sortOrder: must be ASCENDING or DESCENDING")
		return
	}
	var filter expr
	if f := q.Get("filter"); f != "" {
		var err error
		if filter, err = parseExpr(f, logAttrOK, false); err != nil {
			writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.")
			return
		}
	}
	var words []string
	if kw := strings.TrimSpace(q.Get("q")); kw != "" {
		words = strings.Fields(strings.ToLower(kw))
	}
	var after *logCursor
	if a := q.Get("after"); a != "" {
		c, ok := parseCursor(a)
		if !ok {
			writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: after", "after: invalid cursor")
			return
		}
		after = &c
	}

	type hit struct {
		e   *logEvent
		pos logCursor
	}
	var hits []hit
	for i, e := range s.St.Events {
		t := e.Published.Time
		if t.Before(since) || !t.Before(until) {
			continue
		}
		pos := logCursor{t.UnixMilli(), i}
		if after != nil {
			if !desc && !after.less(pos) {
				continue
			}
			if desc && !pos.less(*after) {
				continue
			}
		}
		if filter != nil && !filter.eval(e.get) {
			continue
		}
		if words != nil {
			text := e.keywords()
			all := true
			for _, w := range words {
				if !strings.Contains(text, w) {
					all = false
					break
				}
			}
			if !all {
				continue
			}
		}
		hits = append(hits, hit{e, pos})
	}
	sort.Slice(hits, func(i, j int) bool {
		if desc {
			return hits[j].pos.less(hits[i].pos)
		}
		return hits[i].pos.less(hits[j].pos)
	})
	more := len(hits) > limit
	if more {
		hits = hits[:limit]
	}
	page := make([]any, len(hits))
	for i, h := range hits {
		page[i] = h.e.wire()
	}

	base := baseURL(r) + "/api/v1/logs"
	self := url.Values{}
	for k, v := range q {
		self[k] = v
	}
	w.Header().Add("Link", linkHeader(base, self, "self"))
	// A bounded query ends when no next link comes back; a polling query
	// (no until, ascending) always gets one, resuming after the last event
	// seen, or where it was when nothing new has arrived.
	polling := !bounded && !desc
	if more || polling {
		var cur logCursor
		switch {
		case len(hits) > 0:
			cur = hits[len(hits)-1].pos
		case after != nil:
			cur = *after
		default:
			cur = logCursor{since.UnixMilli(), -1}
		}
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", cur.String())
		w.Header().Add("Link", linkHeader(base, next, "next"))
	}
	writeJSON(w, http.StatusOK, page)
}
