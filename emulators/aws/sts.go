package aws

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS, query protocol: https://docs.aws.amazon.com/STS/latest/APIReference/

func (s *Server) stsHandlers() map[string]handler {
	return map[string]handler{
		"GetCallerIdentity": s.getCallerIdentity,
		"AssumeRole":        s.assumeRole,
	}
}

func (s *Server) getCallerIdentity(w http.ResponseWriter, c *call, p *principal, _ time.Time) {
	writeResult(w, c, struct {
		UserId  string
		Account string
		Arn     string
	}{p.userID, p.account, p.arn})
}

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\x21-\x7e]+/)?([\w+=,.@-]{1,64})$`)
var sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func (s *Server) assumeRole(w http.ResponseWriter, c *call, p *principal, now time.Time) {
	arn, e := required(c, "RoleArn")
	if e != nil {
		writeError(w, c, e)
		return
	}
	name, e := required(c, "RoleSessionName")
	if e != nil {
		writeError(w, c, e)
		return
	}
	if !sessionName.MatchString(name) {
		writeError(w, c, validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", name))
		return
	}
	dur := s.opts.SessionDuration
	if v := c.params.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			writeError(w, c, validation("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", v))
			return
		}
		dur = time.Duration(n) * time.Second
	}
	m := roleARN.FindStringSubmatch(arn)
	if m == nil {
		writeError(w, c, validation("%s is invalid", arn))
		return
	}
	acct, role := m[1], m[2]
	if s.St.account(acct) == nil || p.kind == credSession {
		// Unknown accounts have no role that trusts the caller; the
		// emulator does not model role chaining.
		writeError(w, c, errf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.arn, arn))
		return
	}
	serial := s.St.next("session")
	cr := &credential{
		KeyID:        hashID("ASIA", 16, "session", serial),
		Secret:       hashSecret("session", serial),
		Account:      acct,
		Kind:         credSession,
		ARN:          "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + name,
		UserID:       hashID("AROA", 17, "role", acct, role) + ":" + name,
		Name:         name,
		SessionToken: "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString([]byte(hashSecret("token", serial)+hashSecret("token2", serial))),
		Issued:       now,
		Expires:      now.Add(dur),
	}
	// Drop expired sessions so the list does not grow without bound.
	live := s.St.Credentials[:0]
	for _, old := range s.St.Credentials {
		if old.Kind != credSession || now.Before(old.Expires) {
			live = append(live, old)
		}
	}
	s.St.Credentials = append(live, cr)
	s.audit(c, p, now, map[string]any{"roleArn": arn, "roleSessionName": name, "durationSeconds": int(dur / time.Second)},
		resource{Type: "AWS::IAM::Role", Name: arn}, resource{Type: "AWS::STS::AssumedRole", Name: strings.TrimPrefix(cr.ARN, "arn:aws:sts::"+acct+":")})
	type creds struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	type assumed struct {
		AssumedRoleId string
		Arn           string
	}
	writeResult(w, c, struct {
		Credentials     creds
		AssumedRoleUser assumed
	}{creds{cr.KeyID, cr.Secret, cr.SessionToken, isoTime(cr.Expires)}, assumed{cr.UserID, cr.ARN}})
}
