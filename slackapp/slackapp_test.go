package slackapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // Europe/Paris without the system's zoneinfo

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/config"
)

// Slack's published example, from "Verifying requests from Slack".
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = 1531420618
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func slackHeaders(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	return h
}

// sign computes a v0 signature independently of slack-go.
func sign(secret string, ts int64, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, "v0:"+strconv.FormatInt(ts, 10)+":"+body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func wantErr(t *testing.T, what string, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: Verify accepted it", what)
		return
	}
	if !strings.Contains(err.Error(), substr) {
		t.Errorf("%s: error %q does not say %q", what, err, substr)
	}
}

func TestVerifySlackExample(t *testing.T) {
	// The independent HMAC agrees with Slack's published signature, so the
	// constants above are the docs' own.
	if got := sign(exampleSecret, exampleTimestamp, exampleBody); got != exampleSignature {
		t.Fatalf("the example constants are wrong: HMAC is %s", got)
	}
	synctest.Test(t, func(t *testing.T) {
		secret := config.Secret(exampleSecret)
		h := slackHeaders(strconv.Itoa(exampleTimestamp), exampleSignature)

		// The bubble starts in 2000: the 2018 example is far in the future.
		wantErr(t, "example before its time", Verify(h, []byte(exampleBody), secret), "5 minutes")

		time.Sleep(time.Until(time.Unix(exampleTimestamp, 0)))
		if now := time.Now().Unix(); now != exampleTimestamp {
			t.Fatalf("the bubble's clock is at %d, not %d", now, exampleTimestamp)
		}

		if err := Verify(h, []byte(exampleBody), secret); err != nil {
			t.Fatalf("Slack's example is refused: %v", err)
		}
		app := &App{secret: secret}
		if err := app.Verify(h, []byte(exampleBody)); err != nil {
			t.Fatalf("(*App).Verify refuses Slack's example: %v", err)
		}

		// One character of the body changed.
		tampered := strings.Replace(exampleBody, "user_name=roadrunner", "user_name=roadrunnes", 1)
		if tampered == exampleBody {
			t.Fatal("the body was not changed")
		}
		wantErr(t, "tampered body", Verify(h, []byte(tampered), secret), "does not match")
		wantErr(t, "body with a byte more", Verify(h, []byte(exampleBody+"&"), secret), "does not match")
		wantErr(t, "wrong secret", Verify(h, []byte(exampleBody), config.Secret("8f742231b10e8888abcd99yyyzzz85a6")), "does not match")
		wantErr(t, "wrong secret (app)", (&App{secret: "another-secret"}).Verify(h, []byte(exampleBody)), "does not match")
		wantErr(t, "no secret", Verify(h, []byte(exampleBody), ""), "no signing secret")

		// Headers.
		wantErr(t, "no headers", Verify(http.Header{}, []byte(exampleBody), secret), "missing")
		wantErr(t, "no signature", Verify(slackHeaders(strconv.Itoa(exampleTimestamp), ""), []byte(exampleBody), secret), "X-Slack-Signature")
		wantErr(t, "no timestamp", Verify(slackHeaders("", exampleSignature), []byte(exampleBody), secret), "X-Slack-Request-Timestamp")
		wantErr(t, "no v0= prefix", Verify(slackHeaders(strconv.Itoa(exampleTimestamp), strings.TrimPrefix(exampleSignature, "v0=")), []byte(exampleBody), secret), "malformed")
		wantErr(t, "short signature", Verify(slackHeaders(strconv.Itoa(exampleTimestamp), exampleSignature[:40]), []byte(exampleBody), secret), "malformed")
		wantErr(t, "timestamp not a number", Verify(slackHeaders("1531420618x", exampleSignature), []byte(exampleBody), secret), "malformed")
		// The timestamp is signed: another timestamp with the same signature
		// does not match.
		wantErr(t, "timestamp changed by a second", Verify(slackHeaders(strconv.Itoa(exampleTimestamp+1), exampleSignature), []byte(exampleBody), secret), "does not match")

		// The five-minute window, either way, with correct signatures.
		now := time.Now().Unix()
		at := func(ts int64) error {
			return Verify(slackHeaders(strconv.FormatInt(ts, 10), sign(exampleSecret, ts, exampleBody)), []byte(exampleBody), secret)
		}
		if err := at(now - 4*60); err != nil {
			t.Errorf("4 minutes old: %v", err)
		}
		if err := at(now + 4*60); err != nil {
			t.Errorf("4 minutes ahead: %v", err)
		}
		wantErr(t, "6 minutes old", at(now-6*60), "5 minutes")
		wantErr(t, "6 minutes ahead", at(now+6*60), "5 minutes")

		// The example itself expires as the clock moves on.
		time.Sleep(5*time.Minute + time.Second)
		wantErr(t, "example 5m1s later", Verify(h, []byte(exampleBody), secret), "5 minutes")
	})
}

// rawJSON is v as Slack gets it.
func rawJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// marshal marshals v with encoding/json, as Slack gets it, and returns
// every string of the JSON decoded (so a \u003c that slack-go's own
// marshalers write shows as the < Slack reads), one a line, after the raw
// JSON itself.
func marshal(t *testing.T, v any) string {
	t.Helper()
	raw := rawJSON(t, v)
	var tree any
	if err := json.Unmarshal([]byte(raw), &tree); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v)
			b.WriteByte('\n')
		case map[string]any:
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(tree)
	return raw + "\n" + b.String()
}

type button struct{ actionID, text, value, style string }

// buttons finds every button element in marshal's JSON.
func buttons(t *testing.T, js string) []button {
	t.Helper()
	raw, _, _ := strings.Cut(js, "\n")
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	var out []button
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "button" {
				b := button{}
				b.actionID, _ = v["action_id"].(string)
				b.value, _ = v["value"].(string)
				b.style, _ = v["style"].(string)
				if txt, ok := v["text"].(map[string]any); ok {
					b.text, _ = txt["text"].(string)
				}
				out = append(out, b)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

func pendingNotice() activities.Notice {
	return activities.Notice{
		Kind: activities.NoticeApprovalRequest,
		Case: activities.CaseBrief{
			CaseID: "case-2024-0042", EmployeeID: "E12345", Name: "Janet Quux-Doe",
			Mode: "hostile", Source: "hr", Reason: "Gross misconduct on 12 March",
			RequestedBy: "hr-bot", EffectiveAt: time.Date(2024, 3, 15, 17, 0, 0, 0, time.UTC), TimeZone: "Europe/Paris",
			Systems: []activities.SystemBrief{
				{System: "okta", Found: true, AccountID: "00u1janetOKTA", Steps: 3},
				{System: "slack", Found: true, AccountID: "U0JANET0001", Steps: 2},
				{System: "github", Found: false},
			},
		},
		Approval: &activities.ApprovalBrief{Nonce: "nonce-7f3a", Quorum: 2, State: "pending"},
	}
}

func TestRequestBlocksPending(t *testing.T) {
	n := pendingNotice()
	js := marshal(t, requestBlocks(n, false))

	bs := buttons(t, js)
	if len(bs) != 2 {
		t.Fatalf("want Approve and Reject, got %d buttons: %s", len(bs), js)
	}
	for i, want := range []struct{ action, text string }{{ActionApprove, "Approve"}, {ActionReject, "Reject"}} {
		b := bs[i]
		if b.actionID != want.action || b.text != want.text {
			t.Errorf("button %d is %q %q, want %q %q", i, b.actionID, b.text, want.action, want.text)
		}
		v, err := ParseButton(b.value)
		if err != nil {
			t.Errorf("%s value %q: %v", want.text, b.value, err)
			continue
		}
		if v != (Button{Case: "case-2024-0042", Nonce: "nonce-7f3a"}) {
			t.Errorf("%s value is %+v", want.text, v)
		}
	}
	if bs[0].style != "primary" || bs[1].style != "danger" {
		t.Errorf("styles are %q, %q", bs[0].style, bs[1].style)
	}
	for _, s := range []string{"Janet Quux-Doe", "Gross misconduct on 12 March", "00u1janetOKTA", "U0JANET0001", "E12345", "hr-bot",
		"okta", "3 step(s)", "github: no account", "Needs 2 approval(s)", "2024-03-15 17:00 UTC", "2024-03-15 18:00 CET (Europe/Paris"} {
		if !strings.Contains(js, s) {
			t.Errorf("the request does not show %q: %s", s, js)
		}
	}
}

func TestRequestBlocksPrivate(t *testing.T) {
	n := pendingNotice()
	js := marshal(t, requestBlocks(n, true))
	for _, s := range []string{"Janet", "Quux-Doe", "misconduct", "00u1janetOKTA", "U0JANET0001"} {
		if strings.Contains(js, s) {
			t.Errorf("the private request shows %q: %s", s, js)
		}
	}
	for _, s := range []string{"E12345", "case-2024-0042", "okta: 3 step(s)", "slack: 2 step(s)", "github: no account"} {
		if !strings.Contains(js, s) {
			t.Errorf("the private request does not show %q: %s", s, js)
		}
	}
	// Still asks, with the same buttons.
	bs := buttons(t, js)
	if len(bs) != 2 {
		t.Fatalf("the private request has %d buttons", len(bs))
	}
	for _, b := range bs {
		if v, err := ParseButton(b.value); err != nil || v.Case != "case-2024-0042" || v.Nonce != "nonce-7f3a" {
			t.Errorf("button %s: %+v, %v", b.actionID, v, err)
		}
	}
}

func TestRequestBlocksEscapes(t *testing.T) {
	n := pendingNotice()
	n.Case.EmployeeID = "E1<@U0BOSS>"
	n.Case.Name = "<@U123> Mallory"
	n.Case.Reason = "<!channel> wake up & look"
	n.Case.RequestedBy = "R&D <https://evil.example|click>"
	n.Case.Source = "<!here>"
	n.Case.Mode = "<!everyone>"
	n.Case.TimeZone = "<bogus>"
	n.Case.Systems = []activities.SystemBrief{
		{System: "<#C0GENERAL>", Found: true, AccountID: "<@U0VICTIM>", Steps: 1},
		{System: "x&<y>", Found: false},
	}
	n.Case.PlanError = "okta: <!subteam^S0123> & more"
	js := marshal(t, requestBlocks(n, false))
	if i := strings.IndexByte(js, '<'); i >= 0 {
		t.Errorf("a raw < from the case's text is in the message at %d: %s", i, js)
	}
	if i := strings.IndexByte(js, '>'); i >= 0 {
		t.Errorf("a raw > from the case's text is in the message at %d: %s", i, js)
	}
	for _, s := range []string{"&lt;@U123&gt; Mallory", "&lt;!channel&gt; wake up &amp; look", "R&amp;D &lt;https://evil.example|click&gt;",
		"&lt;!here&gt;", "&lt;!everyone&gt;", "&lt;#C0GENERAL&gt;", "&lt;@U0VICTIM&gt;", "x&amp;&lt;y&gt;", "&lt;!subteam^S0123&gt; &amp; more", "E1&lt;@U0BOSS&gt;"} {
		if !strings.Contains(js, s) {
			t.Errorf("the message does not show %q escaped: %s", s, js)
		}
	}
	// Every & is one esc made: no raw "& " or "&D" from the input.
	for _, s := range []string{"& look", "R&D", "& more", "x&<"} {
		if strings.Contains(js, s) {
			t.Errorf("the message has the unescaped %q", s)
		}
	}
}

func TestRequestBlocksDecided(t *testing.T) {
	at := time.Date(2024, 3, 15, 9, 30, 0, 0, time.UTC)

	n := pendingNotice()
	n.Kind = activities.NoticeApprovalUpdate
	n.Approval = &activities.ApprovalBrief{Nonce: "nonce-7f3a", Quorum: 2, State: "approved", Approvals: []activities.DecisionBrief{
		{Action: "approve", By: "slack:U0ALICE01", At: at},
		{Action: "approve", By: "slack:W0BOB0002", At: at.Add(5 * time.Minute)},
	}}
	n.Approval.Decided = &n.Approval.Approvals[1]
	js := marshal(t, requestBlocks(n, false))
	if bs := buttons(t, js); len(bs) != 0 {
		t.Errorf("an approved request still has buttons: %+v", bs)
	}
	if strings.Contains(js, "nonce-7f3a") {
		t.Errorf("the decided message still carries the nonce: %s", js)
	}
	for _, s := range []string{"*Approved* by <@U0ALICE01> at 09:30 UTC, <@W0BOB0002> at 09:35 UTC"} {
		if !strings.Contains(js, s) {
			t.Errorf("the approved request does not say %q: %s", s, js)
		}
	}

	// A quorum filling: the buttons stay, with who has approved so far.
	n.Approval = &activities.ApprovalBrief{Nonce: "nonce-2", Quorum: 2, State: "pending", Approvals: n.Approval.Approvals[:1]}
	js = marshal(t, requestBlocks(n, false))
	if bs := buttons(t, js); len(bs) != 2 {
		t.Errorf("a half-approved request has %d buttons", len(bs))
	} else if v, _ := ParseButton(bs[0].value); v.Nonce != "nonce-2" {
		t.Errorf("the buttons carry %+v, not the new nonce", v)
	}
	if !strings.Contains(js, "Approved by <@U0ALICE01> at 09:30 UTC (1 of 2)") {
		t.Errorf("the half-approved request does not say who approved: %s", js)
	}

	// Rejected.
	n.Approval = &activities.ApprovalBrief{Nonce: "nonce-3", Quorum: 2, State: "rejected",
		Decided: &activities.DecisionBrief{Action: "reject", By: "slack:U0CAROL03", Reason: "wrong person <!here> & wrong date", At: at}}
	js = marshal(t, requestBlocks(n, false))
	if bs := buttons(t, js); len(bs) != 0 {
		t.Errorf("a rejected request still has buttons: %+v", bs)
	}
	if !strings.Contains(js, "*Rejected* by <@U0CAROL03> at 2024-03-15 09:30 UTC: wrong person &lt;!here&gt; &amp; wrong date. Nothing was cut.") {
		t.Errorf("the rejected request does not say who and why: %s", js)
	}

	// Someone who is not a Slack user is named as text, escaped.
	n.Approval.Decided.By = "cli:<@U0FAKE>"
	js = marshal(t, requestBlocks(n, false))
	if strings.Contains(js, "<@U0FAKE>") || !strings.Contains(js, "cli:&lt;@U0FAKE&gt;") {
		t.Errorf("a non-Slack decider is not escaped: %s", js)
	}
	n.Approval.Decided.By = "slack:u0lower"
	if js = marshal(t, requestBlocks(n, false)); strings.Contains(js, "<@u0lower>") {
		t.Errorf("a malformed Slack ID became a mention: %s", js)
	}
}

func TestParkedBlocks(t *testing.T) {
	n := activities.Notice{
		Kind: activities.NoticeParked,
		Case: activities.CaseBrief{CaseID: "case-9", EmployeeID: "E9", Name: "Janet Quux-Doe", Mode: "standard"},
		Step: &activities.StepBrief{ID: "okta.suspend", ErrorKind: "Unavailable", Message: "okta said <!channel> & 503", Attempts: 4, Nonce: "pn-1"},
	}
	js := marshal(t, parkedBlocks(n))
	bs := buttons(t, js)
	if len(bs) != 2 {
		t.Fatalf("want Retry and Skip, got %d buttons: %s", len(bs), js)
	}
	for i, want := range []struct{ action, text string }{{ActionRetry, "Retry"}, {ActionSkip, "Skip"}} {
		if bs[i].actionID != want.action || bs[i].text != want.text {
			t.Errorf("button %d is %q %q", i, bs[i].actionID, bs[i].text)
		}
		v, err := ParseButton(bs[i].value)
		if err != nil || v != (Button{Case: "case-9", Step: "okta.suspend", Nonce: "pn-1"}) {
			t.Errorf("%s carries %+v, %v", want.text, v, err)
		}
	}
	if strings.Contains(js, "Janet") {
		t.Errorf("the parked step names the person: %s", js)
	}
	if strings.Contains(js, "<!channel>") || !strings.Contains(js, "okta said &lt;!channel&gt; &amp; 503") || !strings.Contains(js, "4 attempt(s)") {
		t.Errorf("the parked step's message: %s", js)
	}

	at := time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)
	n.Kind = activities.NoticeParkedDecided
	n.Step.Decision = &activities.DecisionBrief{Action: "skip", By: "slack:U0OPS0001", Reason: "closed by hand <b>", At: at}
	js = marshal(t, parkedBlocks(n))
	if bs := buttons(t, js); len(bs) != 0 {
		t.Errorf("a decided step still has buttons: %+v", bs)
	}
	if strings.Contains(js, "pn-1") {
		t.Errorf("a decided step still carries the nonce: %s", js)
	}
	if !strings.Contains(js, "*Skipped* by <@U0OPS0001> at 2024-03-15 10:00 UTC: closed by hand &lt;b&gt;") {
		t.Errorf("the skip is not shown: %s", js)
	}
	n.Step.Decision = &activities.DecisionBrief{Action: "retry", By: "slack:U0OPS0001", At: at}
	js = marshal(t, parkedBlocks(n))
	if bs := buttons(t, js); len(bs) != 0 || !strings.Contains(js, "*Retried* by <@U0OPS0001>") {
		t.Errorf("the retry is not shown: %s", js)
	}
}

func TestReasonModals(t *testing.T) {
	for _, c := range []struct {
		name     string
		modal    func(Button) sdk.ModalViewRequest
		b        Button
		callback string
	}{
		{"reject", RejectModal, Button{Case: "case-1", Nonce: "n1"}, CallbackReject},
		{"skip", SkipModal, Button{Case: "case-2", Step: "okta.suspend", Nonce: "n2"}, CallbackSkip},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.modal(c.b)
			if m.Type != sdk.VTModal || m.CallbackID != c.callback {
				t.Errorf("type %q callback %q", m.Type, m.CallbackID)
			}
			b, err := ParseButton(m.PrivateMetadata)
			if err != nil || b != c.b {
				t.Errorf("private_metadata %q parses to %+v, %v", m.PrivateMetadata, b, err)
			}
			var in *sdk.InputBlock
			for _, bl := range m.Blocks.BlockSet {
				if ib, ok := bl.(*sdk.InputBlock); ok {
					in = ib
				}
			}
			if in == nil {
				t.Fatalf("no input block: %s", marshal(t, m))
			}
			if in.BlockID != ReasonBlock {
				t.Errorf("block_id %q", in.BlockID)
			}
			el, ok := in.Element.(*sdk.PlainTextInputBlockElement)
			if !ok || el.ActionID != ReasonAction {
				t.Errorf("the input is %#v", in.Element)
			}
			if in.Optional {
				t.Error("the reason is optional")
			}
			// As Slack reads it: block_id and action_id in the JSON.
			js := rawJSON(t, m)
			for _, s := range []string{`"block_id":"` + ReasonBlock + `"`, `"action_id":"` + ReasonAction + `"`, `"type":"plain_text_input"`, `"callback_id":"` + c.callback + `"`} {
				if !strings.Contains(js, s) {
					t.Errorf("the modal has no %s: %s", s, js)
				}
			}
			// Slack limits titles and submit labels to 24 characters.
			if n := len([]rune(m.Title.Text)); n > 24 {
				t.Errorf("title %q is %d characters", m.Title.Text, n)
			}
		})
	}
}

func TestParseButton(t *testing.T) {
	for _, v := range []string{"", "garbage", "null", "[]", `"x"`, `{}`, `{"case":"c"}`, `{"nonce":"n"}`, `{"case":"","nonce":"n"}`, `{"case":"c","nonce":""}`, `{"case":1,"nonce":"n"}`} {
		if b, err := ParseButton(v); err == nil {
			t.Errorf("ParseButton(%q) = %+v, want an error", v, b)
		}
	}
	for _, b := range []Button{{Case: "c", Nonce: "n"}, {Case: "case-1", Step: "okta.suspend", Nonce: "n-2"}} {
		got, err := ParseButton(b.String())
		if err != nil || got != b {
			t.Errorf("round trip of %+v: %+v, %v", b, got, err)
		}
	}
	if got, err := ParseButton(`{"case":"c","nonce":"n","extra":true}`); err != nil || got != (Button{Case: "c", Nonce: "n"}) {
		t.Errorf("extra field: %+v, %v", got, err)
	}
}

func payloadBody(t *testing.T, p any) []byte {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(raw)}}.Encode())
}

func TestParse(t *testing.T) {
	app := &App{teamID: "T0ACME0001"}
	value := Button{Case: "case-1", Nonce: "n1"}.String()
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "T0ACME0001", "domain": "acme"},
		"user":         map[string]any{"id": "U0ALICE01"},
		"trigger_id":   "123.456.abc",
		"response_url": "https://hooks.slack.com/actions/T0ACME0001/1/xyz",
		"actions":      []any{map[string]any{"type": "button", "action_id": ActionApprove, "block_id": "offboard.approval", "value": value}},
	}
	cb, err := app.Parse(payloadBody(t, payload))
	if err != nil {
		t.Fatalf("the team's payload is refused: %v", err)
	}
	if cb.Type != sdk.InteractionTypeBlockActions || cb.Team.ID != "T0ACME0001" || cb.User.ID != "U0ALICE01" || cb.ResponseURL != payload["response_url"] || cb.TriggerID != "123.456.abc" {
		t.Errorf("parsed %+v", cb)
	}
	if acts := cb.ActionCallback.BlockActions; len(acts) != 1 || acts[0].ActionID != ActionApprove || acts[0].Value != value {
		t.Errorf("actions %+v", acts)
	} else if b, err := ParseButton(acts[0].Value); err != nil || b.Case != "case-1" {
		t.Errorf("the action's value: %+v, %v", b, err)
	}

	other := map[string]any{"type": "block_actions", "team": map[string]any{"id": "T0EVIL0001"}, "user": map[string]any{"id": "U0ALICE01"}}
	if _, err := app.Parse(payloadBody(t, other)); err == nil || !strings.Contains(err.Error(), "T0EVIL0001") {
		t.Errorf("another team's payload: %v", err)
	}
	noTeam := map[string]any{"type": "block_actions", "user": map[string]any{"id": "U0ALICE01"}}
	if _, err := app.Parse(payloadBody(t, noTeam)); err == nil {
		t.Error("a payload without a team is accepted")
	}
	for name, body := range map[string]string{
		"empty":          "",
		"no payload":     "token=x&team_id=T0ACME0001",
		"empty payload":  "payload=",
		"raw JSON":       `{"type":"block_actions","team":{"id":"T0ACME0001"}}`,
		"bad escaping":   "payload=%zz",
		"not JSON":       "payload=" + url.QueryEscape("{not json"),
		"JSON of a list": "payload=" + url.QueryEscape(`[1,2]`),
	} {
		if _, err := app.Parse([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := app.Parse([]byte("payload=" + url.QueryEscape("{not json"))); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("invalid JSON: %v", err)
	}
	if _, err := app.Parse([]byte("token=x")); err == nil || !strings.Contains(err.Error(), "no payload") {
		t.Errorf("no payload: %v", err)
	}
}

// recorder is an http.RoundTripper that records requests and answers ok.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.body = append(r.body, string(b))
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("ok")), Header: http.Header{}, Request: req}, nil
}

func TestEphemeral(t *testing.T) {
	rec := &recorder{}
	app := &App{hc: &http.Client{Transport: rec}, responseHosts: []string{"hooks.slack.com", "127.0.0.1:8099", "localhost:8099"}}
	ctx := context.Background()
	for _, u := range []string{
		"http://evil.example/x",
		"https://evil.example/x",
		"http://hooks.slack.com/actions/T1/2/x", // plain http, not loopback
		"ws://hooks.slack.com/actions/T1/2/x",
		"https://hooks.slack.com.evil.example/x",
		"https://evil.example/hooks.slack.com",
		"https://hooks.slack.com:8443/x",
		"http://127.0.0.1:9999/x", // loopback, but not a configured host
		"//hooks.slack.com/x",
		"hooks.slack.com/x",
		"",
		"://bad",
	} {
		if err := app.Ephemeral(ctx, u, "no"); err == nil || !strings.Contains(err.Error(), "not Slack's") {
			t.Errorf("Ephemeral(%q) = %v, want a refusal", u, err)
		}
	}
	if len(rec.reqs) != 0 {
		t.Fatalf("a refused response_url was requested: %v", rec.reqs[0].URL)
	}

	// Slack's host over https, and the emulator's on loopback over http.
	for _, u := range []string{"https://hooks.slack.com/actions/T1/2/x", "http://127.0.0.1:8099/response/1", "http://localhost:8099/response/2"} {
		if err := app.Ephemeral(ctx, u, "you are not <an approver>"); err != nil {
			t.Errorf("Ephemeral(%q): %v", u, err)
		}
	}
	if len(rec.reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(rec.reqs))
	}
	if got := rec.reqs[0]; got.Method != http.MethodPost || got.URL.String() != "https://hooks.slack.com/actions/T1/2/x" {
		t.Errorf("request %s %s", got.Method, got.URL)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(rec.body[0]), &msg); err != nil {
		t.Fatalf("body %q: %v", rec.body[0], err)
	}
	if msg["response_type"] != "ephemeral" || msg["text"] != "you are not <an approver>" {
		t.Errorf("message %v", msg)
	}
	if r, ok := msg["replace_original"]; ok && r != false {
		t.Errorf("replace_original is %v", r)
	}
}

// A watch alert's blocks say what was seen (escaped: a vendor's text
// cannot ping a channel), its evidence bundle and hash, the watch's state
// and whom it pages, users and user groups each the Slack way.
func TestWatchBlocks(t *testing.T) {
	n := activities.Notice{
		Kind: activities.NoticeWatchAlert,
		Case: activities.CaseBrief{CaseID: "offboard/E9", EmployeeID: "E9", Mode: "hostile"},
		Watch: &activities.WatchBrief{WatchID: "watch/E9", State: "alerting", AlertID: 3, Kind: "attempt", System: "okta",
			Message: "okta: user.session.start <!channel> from 45.14.71.9", Bundle: "E9-watch-r-4", Digest: "abc123", Paged: []string{"U0SOC1", "S0SEC"}},
	}
	js := marshal(t, watchBlocks(n, mentions(n.Watch.Paged)))
	for _, want := range []string{"Watch alert 3", "watch/E9", "&lt;!channel&gt;", "E9-watch-r-4", "abc123", "alerting", "<@U0SOC1>", "<!subteam^S0SEC>"} {
		if !strings.Contains(unescapeJSON(js), want) {
			t.Errorf("watch blocks lack %q: %s", want, js)
		}
	}
	if strings.Contains(unescapeJSON(js), "<!channel>") {
		t.Errorf("a vendor's text pings the channel: %s", js)
	}
	if got := mentions(nil); got != "" {
		t.Errorf("no pages: %q", got)
	}
}

func unescapeJSON(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}
