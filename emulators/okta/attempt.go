package okta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/attempt (emu.AttemptPath) simulates the person trying to
// sign in to Okta (primary authentication, as POST /api/v1/authn does it)
// and records in the System Log the user.session.start event Okta
// records for it:
//
//	{"account": "00u... | ada@example.com", "ip": "198.51.100.7",
//	  "userAgent": "Mozilla/5.0 ..."}
//
// The account is a user's id, login or email; a credential is refused
// (okta attempts name an account, not a credential), as is an action
// other than "user.session.start". ip defaults to emu.DefaultAttemptIP and
// userAgent to a desktop Chrome's.
//
// Okta decides from the user's status. An ACTIVE user signs in: outcome
// SUCCESS, severity INFO, a new session (the user's lastLogin and session
// count change). Any other status fails with outcome FAILURE, severity
// WARN and the reason Okta writes: LOCKED_OUT for a locked-out user, and
// VERIFICATION_ERROR for every status that may not sign in at all
// (SUSPENDED, DEPROVISIONED, and the STAGED, PROVISIONED, RECOVERY and
// PASSWORD_EXPIRED ones offboard never makes). Sources for the reasons:
// Okta's "Common Okta Login Failures" support article (reasons
// LOCKED_OUT, VERIFICATION_ERROR "error occurred during the verification
// process", INVALID_CREDENTIALS, UNKNOWN_USER;
// https://support.okta.com/help/s/article/common-okta-login-failures),
// Okta's System Log event list (legacy core.user_auth.login_failed.*:
// verification_error "Verification failed for user", locked_out "User is
// currently locked out"), and a real failed user.session.start LogEvent
// kept as a test sample in panther-labs/panther-analysis (outcome
// {"result": "FAILURE", "reason": "VERIFICATION_ERROR"}, legacyEventType
// core.user_auth.login_failed, debugData.loginResult VERIFICATION_ERROR).
//
// The event's actor is the user (id, login as alternateId, name), its
// client the ip and user agent, request.ipChain the ip; like Okta's
// user.session.start it has no target. So GET /api/v1/logs finds it with
// filter actor.id eq "<user id>" (what the connector asks) or
// client.ipAddress eq "<ip>", and not with target.id eq "<user id>",
// which finds what was done to the user (unsuspend, activate). It is
// published at the emulator's clock (Options.Now), like the events its API
// calls write, and is saved with the state. It is not delivered to the
// event hook: an attempt is not an API call.
//
// The answer is {"outcome": "failure"|"success", "event": <the LogEvent>};
// an unknown account is a 404, and nothing is recorded then or for a bad
// body.

// attemptAction is the one action an Okta attempt simulates.
const attemptAction = "user.session.start"

// authnURI is the primary authentication endpoint the attempt stands for.
const authnURI = "/api/v1/authn"

func (s *Server) attempt(a emu.Attempt, _ time.Time) (emu.AttemptResult, error) {
	if a.Credential != "" {
		return emu.AttemptResult{}, errors.New(`okta attempts name an account, not a credential: give {"account": "<user id, login or email>"}`)
	}
	if a.Action != "" && a.Action != attemptAction {
		return emu.AttemptResult{}, fmt.Errorf("action %q: okta attempts are sign-ins, action %q (or none)", a.Action, attemptAction)
	}
	ip, err := netip.ParseAddr(a.IP)
	if err != nil || ip.Zone() != "" {
		return emu.AttemptResult{}, fmt.Errorf("ip %q is not an IP address", a.IP)
	}
	ua := a.UserAgent
	if ua == "" {
		ua = browserUA
	}
	s.Lock()
	defer s.Unlock()
	st := s.St
	u := st.userByKey(a.Account)
	if u == nil {
		return emu.AttemptResult{}, emu.Unknownf("okta user %q: no user has that id, login or email", a.Account)
	}
	now := s.opts.Now().UTC().Truncate(time.Millisecond)
	e, ok := st.signInEvent(u, now, ip, ua)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e.wire()); err != nil {
		return emu.AttemptResult{}, err
	}
	st.Events = append(st.Events, e)
	res := emu.AttemptResult{Outcome: "failure", Event: bytes.TrimSpace(buf.Bytes())}
	if ok {
		res.Outcome = "success"
		u.LastLogin = stamp(now)
		u.Sessions++
	}
	return res, nil
}

// userByKey finds a user by id, login or email (case-insensitive).
func (st *state) userByKey(key string) *user {
	if key == "" {
		return nil
	}
	if u := st.userByIDOrLogin(key); u != nil {
		return u
	}
	for _, u := range st.Users {
		if strings.EqualFold(u.Profile["email"], key) {
			return u
		}
	}
	return nil
}

// signInReason is the outcome.reason of a sign-in by a user of status, or
// "" when the user signs in.
func signInReason(status string) string {
	switch status {
	case "ACTIVE":
		return ""
	case "LOCKED_OUT":
		return "LOCKED_OUT"
	}
	return "VERIFICATION_ERROR"
}

// signInEvent is the user.session.start event of u signing in at from ip
// with user agent ua, and whether the sign-in succeeded.
func (st *state) signInEvent(u *user, at time.Time, ip netip.Addr, ua string) (*logEvent, bool) {
	e := st.baseEvent("user.session.start", at)
	e.Actor = userTarget(u)
	agent := &logUserAgent{RawUserAgent: ua, OS: "Unknown", Browser: "UNKNOWN"}
	device := "Unknown"
	if ua == browserUA {
		agent.OS, agent.Browser, device = "Mac OS X", "CHROME", "Computer"
	}
	version := "V6"
	if ip.Unmap().Is4() {
		version = "V4"
	}
	e.Client = logClient{UserAgent: agent, Zone: "null", Device: device, IPAddress: ip.String()}
	e.Request = logRequest{IPChain: []logIP{{IP: ip.String(), Version: version}}}
	e.DebugContext.DebugData = map[string]string{
		"requestId": e.Transaction.ID, "requestUri": authnURI, "url": authnURI + "?", "threatSuspected": "false",
	}
	reason := signInReason(u.Status)
	if reason == "" {
		e.AuthenticationContext = logAuthContext{AuthenticationStep: 0, ExternalSessionID: st.newID("102")}
		return e, true
	}
	e.Outcome = logOutcome{Result: "FAILURE", Reason: strp(reason)}
	e.Severity = "WARN"
	e.LegacyEventType = strp("core.user_auth.login_failed")
	e.DebugContext.DebugData["loginResult"] = reason
	// No session was made: Okta writes "unknown".
	e.AuthenticationContext = logAuthContext{AuthenticationStep: 0, ExternalSessionID: "unknown"}
	return e, false
}

// activation serves POST /api/v1/users/{id}/lifecycle/activate and
// /reactivate: the ways, with unsuspend, that an admin brings an account
// back. Each logs its event (user.lifecycle.activate "Activate Okta user",
// user.lifecycle.reactivate "Reactivate Okta user") with the token's
// principal as actor and the user as target, so System Log filter
// target.id eq "<user id>" tells who did it. As Okta documents them
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/):
//
//   - activate works only on a STAGED or DEPROVISIONED user; an ACTIVE one
//     is 403 E0000016 "Activation failed because the user is already
//     active", any other status 403 E0000038. sendEmail defaults to true.
//   - reactivate works only on a PROVISIONED or RECOVERY user (it restarts
//     an activation not completed), else 403 E0000038. sendEmail defaults
//     to false.
//
// A user without a password, and every DEPROVISIONED one has none
// (deactivation deletes it), becomes PROVISIONED: they must follow the
// activation link to become ACTIVE, which the emulator does not simulate,
// so their sign-in attempts still fail. A STAGED user with a password
// becomes ACTIVE. With sendEmail=false the answer is the activation
// token and URL, else {}.
func (s *Server) activation(w http.ResponseWriter, r *http.Request, now time.Time, seg []string) {
	u := s.userOr404(w, seg[1])
	if u == nil {
		return
	}
	op := seg[3]
	sendEmail := op == "activate"
	if v := r.URL.Query().Get("sendEmail"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: sendEmail", "sendEmail: must be true or false")
			return
		}
		sendEmail = b
	}
	var typ, msg string
	switch op {
	case "activate":
		switch u.Status {
		case "STAGED", "DEPROVISIONED":
		case "ACTIVE":
			writeError(w, http.StatusForbidden, "E0000016", "Activation failed because the user is already active")
			return
		default:
			writeError(w, http.StatusForbidden, "E0000038", msgWrongStatus)
			return
		}
		typ, msg = "user.lifecycle.activate", "Activate Okta user"
	case "reactivate":
		if u.Status != "PROVISIONED" && u.Status != "RECOVERY" {
			writeError(w, http.StatusForbidden, "E0000038", msgWrongStatus)
			return
		}
		typ, msg = "user.lifecycle.reactivate", "Reactivate Okta user"
	}
	if u.Status == "DEPROVISIONED" {
		u.PasswordChanged = nil
	}
	status := "PROVISIONED"
	if u.Status == "STAGED" && u.PasswordChanged != nil {
		status = "ACTIVE"
		u.Activated = stamp(now)
	}
	u.Status = status
	u.StatusChanged = stamp(now)
	u.LastUpdated = oktaTime{now.UTC()}
	e := s.adminEvent(r, now, typ, u)
	e.DisplayMessage = msg
	if op == "activate" {
		e.LegacyEventType = strp("core.user.config.user_activated")
	}
	if sendEmail {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	token := randomID("", 20)
	writeJSON(w, http.StatusOK, map[string]string{
		"activationUrl":   baseURL(r) + "/welcome/" + token,
		"activationToken": token,
	})
}

const msgWrongStatus = "This operation is not allowed in the user's current status."
