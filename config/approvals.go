package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Approvals is the approval policy (the config file's approvals key): which
// cases wait for people to approve them in Slack before anything is cut,
// who may approve, and whom to remind and escalate to. A case is never
// approved by time passing.
type Approvals struct {
	// Channel is the private Slack channel the approval requests go to.
	Channel string `yaml:"channel"`
	// Approvers are Slack user IDs who may approve.
	Approvers []string `yaml:"approvers,omitempty"`
	// ApproverGroup is a Slack user group whose members may approve, read
	// at each decision.
	ApproverGroup string `yaml:"approverGroup,omitempty"`
	// Quorum is how many distinct approvers must approve; default 1.
	Quorum int `yaml:"quorum,omitempty"`
	// When lists which cases need approval: any term that matches
	// ("mode:hostile", "source:okta") does; none listed means every case.
	When []string `yaml:"when,omitempty"`
	// RemindAfter is how often an undecided request is reminded of in its
	// thread; default DefaultRemindAfter.
	RemindAfter time.Duration `yaml:"remindAfter,omitempty"`
	// EscalateTo is a Slack channel told once the request has waited
	// EscalateAfter (default DefaultEscalateAfter).
	EscalateTo    string        `yaml:"escalateTo,omitempty"`
	EscalateAfter time.Duration `yaml:"escalateAfter,omitempty"`
}

// Approval defaults and bounds.
const (
	DefaultRemindAfter   = 30 * time.Minute
	DefaultEscalateAfter = 2 * time.Hour
	MinRemindAfter       = time.Minute
	MaxQuorum            = 10
)

// Sources of a case, matched by approvals.when's source: terms.
const (
	SourceCLI  = "cli"
	SourceHR   = "hr"
	SourceOkta = "okta"
)

// Sources lists the case sources.
var Sources = []string{SourceCLI, SourceHR, SourceOkta}

var (
	// SlackChannelRE matches a Slack conversation ID (public C…, private G…).
	SlackChannelRE = regexp.MustCompile(`^[CG][A-Z0-9]{2,20}$`)
	// SlackUserRE matches a Slack user ID.
	SlackUserRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	// SlackGroupRE matches a Slack user group ID.
	SlackGroupRE = regexp.MustCompile(`^S[A-Z0-9]{2,20}$`)
)

// fill sets the defaults.
func (a *Approvals) fill() {
	if a.Quorum == 0 {
		a.Quorum = 1
	}
	if a.RemindAfter == 0 {
		a.RemindAfter = DefaultRemindAfter
	}
	if a.EscalateTo != "" && a.EscalateAfter == 0 {
		a.EscalateAfter = DefaultEscalateAfter
	}
}

// validate checks the policy's shape; that the channels exist and are
// private is checked against Slack when a worker starts.
func (a *Approvals) validate() error {
	var errs []error
	if !SlackChannelRE.MatchString(a.Channel) {
		errs = append(errs, fmt.Errorf("approvals.channel %q: want a Slack channel ID (like C0123ABCD)", a.Channel))
	}
	for _, u := range a.Approvers {
		if !SlackUserRE.MatchString(u) {
			errs = append(errs, fmt.Errorf("approvals.approvers: %q is not a Slack user ID (like U0123ABCD)", u))
		}
	}
	if a.ApproverGroup != "" && !SlackGroupRE.MatchString(a.ApproverGroup) {
		errs = append(errs, fmt.Errorf("approvals.approverGroup %q: want a Slack user group ID (like S0123ABCD)", a.ApproverGroup))
	}
	if len(a.Approvers) == 0 && a.ApproverGroup == "" {
		errs = append(errs, errors.New("approvals names no approver: set approvals.approvers or approvals.approverGroup"))
	}
	switch {
	case a.Quorum < 1 || a.Quorum > MaxQuorum:
		errs = append(errs, fmt.Errorf("approvals.quorum %d: want 1 to %d", a.Quorum, MaxQuorum))
	case a.ApproverGroup == "" && a.Quorum > len(distinct(a.Approvers)):
		errs = append(errs, fmt.Errorf("approvals.quorum %d is more than the %d approvers listed: no case could ever be approved", a.Quorum, len(distinct(a.Approvers))))
	}
	for _, w := range a.When {
		if err := checkWhen(w); err != nil {
			errs = append(errs, err)
		}
	}
	if a.RemindAfter < MinRemindAfter {
		errs = append(errs, fmt.Errorf("approvals.remindAfter %s: want at least %s", a.RemindAfter, MinRemindAfter))
	}
	if a.EscalateTo != "" && !SlackChannelRE.MatchString(a.EscalateTo) {
		errs = append(errs, fmt.Errorf("approvals.escalateTo %q: want a Slack channel ID (like C0123ABCD)", a.EscalateTo))
	}
	if a.EscalateTo != "" && a.EscalateTo == a.Channel {
		errs = append(errs, errors.New("approvals.escalateTo is the approvals channel: escalate to another channel"))
	}
	if a.EscalateTo == "" && a.EscalateAfter != 0 {
		errs = append(errs, errors.New("approvals.escalateAfter is set but approvals.escalateTo is not"))
	}
	if a.EscalateTo != "" && a.EscalateAfter < MinRemindAfter {
		errs = append(errs, fmt.Errorf("approvals.escalateAfter %s: want at least %s", a.EscalateAfter, MinRemindAfter))
	}
	return errors.Join(errs...)
}

func distinct(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// checkWhen checks one approvals.when term.
func checkWhen(w string) error {
	k, v, ok := strings.Cut(w, ":")
	switch {
	case !ok:
		return fmt.Errorf("approvals.when %q: want mode:<mode> or source:<source>", w)
	case k == "mode" && (v == "standard" || v == "hostile"):
		return nil
	case k == "mode":
		return fmt.Errorf("approvals.when %q: mode is standard or hostile", w)
	case k == "source" && slices.Contains(Sources, v):
		return nil
	case k == "source":
		return fmt.Errorf("approvals.when %q: source is one of %s", w, strings.Join(Sources, ", "))
	case k == "risk":
		return fmt.Errorf("approvals.when %q: risk terms are not supported yet", w)
	}
	return fmt.Errorf("approvals.when %q: want mode:<mode> or source:<source>", w)
}

// Needs reports whether a case of this mode and source needs approval:
// when When is empty, or any of its terms matches.
func (a *Approvals) Needs(mode, source string) bool {
	if a == nil {
		return false
	}
	if len(a.When) == 0 {
		return true
	}
	return slices.ContainsFunc(a.When, func(w string) bool {
		return w == "mode:"+mode || (source != "" && w == "source:"+source)
	})
}
