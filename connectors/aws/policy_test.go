package aws

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
)

const (
	leaver = "90671001-aaaa-4bbb-8ccc-000000001001"
	other  = "906710ff-aaaa-4bbb-8ccc-0000000010ff"
)

func TestAddKillSwitch(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		doc     string
		changed bool
		ids     []string // the deny statement's IDs afterwards
		kept    []string // Sids of other statements that must survive
		stmts   int
		err     bool
	}{
		"empty policy": {doc: "", changed: true, ids: []string{leaver}, stmts: 1},
		"single statement object": {doc: `{"Version":"2012-10-17","Statement":{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
			changed: true, ids: []string{leaver}, kept: []string{"S3"}, stmts: 2},
		"pre-staged placeholder as a string": {doc: `{"Version":"2012-10-17","Statement":[{"Sid":"Departed","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"identitystore:UserId":"` + other + `"}}}]}`,
			changed: true, ids: []string{other, leaver}, kept: []string{"Departed"}, stmts: 1},
		"own statement with others": {doc: `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},{"Sid":"OffboardingDenyDepartedUsers","Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"StringEquals":{"identitystore:UserId":["` + other + `"]}}}]}`,
			changed: true, ids: []string{other, leaver}, kept: []string{"A", "OffboardingDenyDepartedUsers"}, stmts: 2},
		"already denied": {doc: `{"Version":"2012-10-17","Statement":[{"Sid":"OffboardingDenyDepartedUsers","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"identitystore:UserId":["` + leaver + `"]}}}]}`,
			changed: false, ids: []string{leaver}, stmts: 1},
		"a narrower deny is not the kill switch": {doc: `{"Version":"2012-10-17","Statement":[{"Sid":"NoS3","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"identitystore:UserId":["` + other + `"]}}}]}`,
			changed: true, ids: []string{leaver}, kept: []string{"NoS3"}, stmts: 2},
		"not JSON":          {doc: `{"Statement":`, err: true},
		"statement garbage": {doc: `{"Statement":"nope"}`, err: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, changed, err := addKillSwitch(c.doc, leaver)
			if c.err {
				if err == nil {
					t.Fatalf("no error for %s", c.doc)
				}
				return
			}
			if err != nil || changed != c.changed {
				t.Fatalf("changed %v err %v, want changed %v", changed, err, c.changed)
			}
			if !changed && out != c.doc {
				t.Errorf("unchanged policy was rewritten:\n%s\n%s", c.doc, out)
			}
			_, sts, err := parsePolicy(out)
			if err != nil || len(sts) != c.stmts {
				t.Fatalf("result %s: %d statements (%v), want %d", out, len(sts), err, c.stmts)
			}
			_, k := findKill(sts)
			ids, _, ok := k.denyIDs()
			if !ok || !slices.Equal(ids, c.ids) {
				t.Errorf("deny IDs %v, want %v in %s", ids, c.ids, out)
			}
			for _, sid := range c.kept {
				if !strings.Contains(out, `"Sid":"`+sid+`"`) {
					t.Errorf("statement %s lost: %s", sid, out)
				}
			}
			if denied, err := policyDenies(out, leaver); err != nil || !denied {
				t.Errorf("policyDenies %v %v", denied, err)
			}
			// Idempotent: adding again changes nothing.
			again, changed, err := addKillSwitch(out, leaver)
			if err != nil || changed || again != out {
				t.Errorf("second add: changed %v err %v", changed, err)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(out), &v); err != nil || v["Version"] == nil {
				t.Errorf("result %s is not a versioned policy", out)
			}
		})
	}
}

func TestPolicyDeniesOnlyListedUsers(t *testing.T) {
	t.Parallel()
	doc, _, err := addKillSwitch("", other)
	if err != nil {
		t.Fatal(err)
	}
	if denied, _ := policyDenies(doc, leaver); denied {
		t.Error("a policy listing another user denies the leaver")
	}
	if denied, _ := policyDenies("", leaver); denied {
		t.Error("an empty policy denies the leaver")
	}
}

func TestRevokeDocument(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	doc := revokeDocument(at)
	if !strings.Contains(doc, `"DateLessThan":{"aws:TokenIssueTime":"2026-11-25T10:00:00Z"}`) || !strings.Contains(doc, `"Effect":"Deny"`) {
		t.Errorf("document %s", doc)
	}
	cases := map[string]struct {
		doc string
		ok  bool
	}{
		"ours":                {doc, true},
		"console style":       {`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-11-25T10:00:00Z"}}}}`, true},
		"allow":               {strings.Replace(doc, "Deny", "Allow", 1), false},
		"narrow":              {strings.Replace(doc, `["*"]`, `["s3:*"]`, 1), false},
		"no condition":        {`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, false},
		"not a policy":        {`nope`, false},
		"unparseable cut-off": {strings.Replace(doc, "2026-11-25T10:00:00Z", "yesterday", 1), false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := revokeCutoff(c.doc)
			if ok != c.ok || (ok && !got.Equal(at)) {
				t.Errorf("cut-off %v %v, want %v", got, ok, c.ok)
			}
		})
	}
}

func TestParseIAMUsers(t *testing.T) {
	t.Parallel()
	const (
		a, b = "111111111111", "222222222222"
		idA  = "AIDAAAAAAAAAAAAAAAAAA"
		idB  = "AIDABBBBBBBBBBBBBBBBB"
	)
	cases := map[string]struct {
		in   string
		want []iamRef
		err  bool
	}{
		"empty":             {in: "", want: nil},
		"one":               {in: a + ":" + idA + ":alovelace", want: []iamRef{{a, idA, "alovelace"}}},
		"two accounts":      {in: a + ":" + idA + ":a," + b + ":" + idB + ":b", want: []iamRef{{a, idA, "a"}, {b, idB, "b"}}},
		"comma in a name":   {in: a + ":" + idA + ":a,b," + b + ":" + idB + ":c", want: []iamRef{{a, idA, "a,b"}, {b, idB, "c"}}},
		"commas at the end": {in: a + ":" + idA + ":a,,b", want: []iamRef{{a, idA, "a,,b"}}},
		"email as name":     {in: a + ":" + idA + ":ada@example.com", want: []iamRef{{a, idA, "ada@example.com"}}},
		"no account":        {in: "alovelace", err: true},
		"name first":        {in: "alovelace," + a + ":" + idA + ":x", err: true},
		"old format":        {in: a + ":alovelace", err: true},
		"name for the ID":   {in: a + ":alovelace:alovelace", err: true},
		"no name":           {in: a + ":" + idA + ":", err: true},
		"colon in name":     {in: a + ":" + idA + ":a:b", err: true},
		"bad name":          {in: a + ":" + idA + ":a b", err: true},
		"bad account":       {in: "1111:" + idA + ":a", err: true},
		"listed twice":      {in: a + ":" + idA + ":a," + a + ":" + idA + ":a", err: true},
		"round trips list":  {in: formatIAMUsers([]iamRef{{a, idA, "x=y"}, {b, idB, "p,q"}}), want: []iamRef{{a, idA, "x=y"}, {b, idB, "p,q"}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := parseIAMUsers(c.in)
			if (err != nil) != c.err || !slices.Equal(got, c.want) {
				t.Errorf("parse %q: %v %v, want %v (error %v)", c.in, got, err, c.want, c.err)
			}
			// Errors never quote the attribute's names.
			if err != nil && (strings.Contains(err.Error(), "alovelace") || strings.Contains(err.Error(), "a b")) {
				t.Errorf("error %q quotes a user name", err)
			}
		})
	}
}

func TestHideUserName(t *testing.T) {
	t.Parallel()
	r := iamRef{"111111111111", "AIDAAAAAAAAAAAAAAAAAA", "ada"}
	cases := map[string]string{
		"The user with name ada cannot be found.":          "The user with name [AIDAAAAAAAAAAAAAAAAAA] cannot be found.",
		"on resource: arn:aws:iam::111111111111:user/ada.": "on resource: arn:aws:iam::111111111111:user/[AIDAAAAAAAAAAAAAAAAAA].",
		"arn:aws:iam::111111111111:mfa/ada":                "arn:aws:iam::111111111111:mfa/[AIDAAAAAAAAAAAAAAAAAA]",
		"ada,ada":                                          "[AIDAAAAAAAAAAAAAAAAAA],[AIDAAAAAAAAAAAAAAAAAA]",
		"adam and ada-ops and nevada and ada_x and ada@x":  "adam and ada-ops and nevada and ada_x and ada@x",
		"group developers":                                 "group developers",
		"xada ada":                                         "xada [AIDAAAAAAAAAAAAAAAAAA]",
		"":                                                 "",
	}
	for in, want := range cases {
		if got := r.hide(in); got != want {
			t.Errorf("hide(%q) = %q, want %q", in, got, want)
		}
	}
	err := r.hideErr(&connectors.Error{Kind: connectors.NotFound, System: System, Op: "get user ada", Msg: "NoSuchEntity: The user with name ada cannot be found.",
		Err: &vendorError{Code: "NoSuchEntity", Msg: "The user with name ada cannot be found."}})
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), " ada") {
			t.Errorf("error %q still names the user", e)
		}
	}
	if !connectors.IsNotFound(err) || codeOf(err) != "NoSuchEntity" {
		t.Errorf("hiding changed the error: %v", err)
	}
	if r.hideErr(nil) != nil {
		t.Error("hideErr(nil) is not nil")
	}
}

func TestStepLabel(t *testing.T) {
	t.Parallel()
	step := func(system, action, scope string) connectors.Step {
		return connectors.Step{System: system, Action: action, Scope: scope}
	}
	cases := []struct {
		in   connectors.Step
		want string
	}{
		{step("aws", "remove-groups", "111111111111:AIDAAAAAAAAAAAAAAAAAA"), "aws.remove-groups/111111111111:AIDAAAAAAAAAAAAAAAAAA"},
		{step("aws", "sso-kill-sessions", "90671001-aaaa-4bbb-8ccc-000000001001"), "aws.sso-kill-sessions/90671001-aaaa-4bbb-8ccc-000000001001"},
		{step("aws", "remove-groups", "111111111111:alovelace"), "aws.remove-groups/(scope withheld)"},
		{step("aws", "remove-groups", "ada@example.com"), "aws.remove-groups/(scope withheld)"},
		{step("okta", "suspend", ""), "okta.suspend"},
		{step("ada lovelace", "remove-groups", "111111111111:AIDAAAAAAAAAAAAAAAAAA"), "(malformed step)"},
		{step("aws", "ada@example.com", ""), "(malformed step)"},
		{step("aws", "", "111111111111:alovelace"), "(malformed step)"},
	}
	for _, c := range cases {
		if got := stepLabel(c.in); got != c.want {
			t.Errorf("stepLabel(%+v) = %q, want %q", c.in, got, c.want)
		}
	}
}
