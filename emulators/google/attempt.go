package google

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/offboard/offboard/emulators/emu"
)

// POST /_emulator/attempt (emu.AttemptPath) simulates the person trying to
// sign in to their Google account and records the Reports API login
// activity Google records for it:
//
//	{"account": "1000... | ada@example.com", "ip": "198.51.100.7"}
//
// The account is a user's ID or primary email; a credential is refused
// (google attempts name an account, not a credential), as is an action
// other than "login" (the application). ip defaults to
// emu.DefaultAttemptIP; userAgent is accepted and not recorded, as login
// activities carry none.
//
// Google decides from the user: a suspended user's sign-in fails, event
// login_failure with login_failure_type login_failure_account_disabled
// ("the user's account is disabled"); an active user signs in, event
// login_success, and gets a session and a new lastLoginTime. A deleted
// user is unknown. Both events are of type "login" with login_type
// google_password and is_suspicious false, as the emulator's seeded
// logins are. Source: the Reports API Login Audit activity events
// (https://developers.google.com/workspace/admin/reports/v1/appendix/activity/login;
// the Admin SDK release notes of March 27, 2014 added the
// login_failure_type values login_failure_account_disabled and
// login_failure_unknown).
//
// The activity (application login, actor email and profileId the user's,
// ipAddress the ip) is timed at the emulator's clock (Options.Now), like
// the events its API calls log, and activities.list serves it like any
// other: with userKey the user's ID or email, or all with actorIpAddress
// the ip, eventName and filters (login_failure_type==...) applying.
//
// The answer is {"outcome": "failure"|"success", "event": <the activity>};
// an unknown account is a 404, and nothing is recorded then or for a bad
// body.

// attemptApp is the one application an attempt simulates.
const attemptApp = "login"

func (s *Server) attempt(a emu.Attempt, _ time.Time) (emu.AttemptResult, error) {
	if a.Credential != "" {
		return emu.AttemptResult{}, errors.New(`google attempts name an account, not a credential: give {"account": "<user ID or primary email>"}`)
	}
	if a.Action != "" && a.Action != attemptApp {
		return emu.AttemptResult{}, fmt.Errorf("action %q: google attempts are sign-ins, action %q (or none)", a.Action, attemptApp)
	}
	ip, err := netip.ParseAddr(a.IP)
	if err != nil || ip.Zone() != "" {
		return emu.AttemptResult{}, fmt.Errorf("ip %q is not an IP address", a.IP)
	}
	s.Lock()
	defer s.Unlock()
	st := s.St
	u := st.userByKey(a.Account)
	if u == nil {
		return emu.AttemptResult{}, emu.Unknownf("google user %q: no user has that ID or primary email", a.Account)
	}
	now := s.opts.Now().UTC().Truncate(time.Millisecond)
	rec := st.loginRecord(u, now, ip.String())
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st.wire(rec)); err != nil {
		return emu.AttemptResult{}, err
	}
	st.Events = append(st.Events, rec)
	// Injected history may lie ahead of the clock; the log stays oldest first.
	sort.SliceStable(st.Events, func(i, j int) bool { return st.Events[i].At.Before(st.Events[j].At) })
	res := emu.AttemptResult{Outcome: "failure", Event: bytes.TrimSpace(buf.Bytes())}
	if !u.Suspended {
		res.Outcome = "success"
		u.LastLoginTime = now
		u.Sessions++
	}
	return res, nil
}

// loginRecord is the login activity of u signing in at from ip: a failure
// when u is suspended.
func (st *state) loginRecord(u *user, at time.Time, ip string) *record {
	ev := &event{Type: "login", Name: "login_success", Parameters: []*param{strParam("login_type", "google_password")}}
	if u.Suspended {
		ev.Name = "login_failure"
		ev.Parameters = append(ev.Parameters, strParam("login_failure_type", "login_failure_account_disabled"))
	}
	ev.Parameters = append(ev.Parameters, boolParam("is_suspicious", false))
	return &record{At: at, Qualifier: st.newQualifier(), App: attemptApp, IP: ip,
		Actor:  actor{CallerType: "USER", Email: u.PrimaryEmail, ProfileID: u.ID},
		Events: []*event{ev}}
}
