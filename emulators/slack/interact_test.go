package slack_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/slack-go/slack"

	"github.com/offboard/offboard/emulators/seed"
	slackemu "github.com/offboard/offboard/emulators/slack"
)

const (
	margaret  = "U00001005" // security engineer: an approver
	katherine = "U00001017" // IT admin: an approver
	secret    = "test-signing-secret"
)

func slackErr(err error) string {
	var se sdk.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	ctx := t.Context()
	ch, err := f.bot().GetConversationInfoContext(ctx, &sdk.GetConversationInfoInput{ChannelID: "C0APPROVALS", IncludeNumMembers: true})
	if err != nil || !ch.IsPrivate || ch.Name != "offboard-approvals" || !ch.IsMember || ch.NumMembers != 3 {
		t.Fatalf("approvals: %+v %v", ch, err)
	}
	ops, err := f.bot().GetConversationInfoContext(ctx, &sdk.GetConversationInfoInput{ChannelID: "C0OFFBOARDOPS"})
	if err != nil || ops.IsPrivate || ops.Name != "offboard-ops" {
		t.Fatalf("ops: %+v %v", ops, err)
	}
	members, next, err := f.bot().GetUsersInConversationContext(ctx, &sdk.GetUsersInConversationParameters{ChannelID: "C0APPROVALS"})
	if err != nil || next != "" || !slices.Equal(members, []string{margaret, katherine, slackemu.BotUserID}) {
		t.Fatalf("approvals members %v %q %v", members, next, err)
	}
	leads, _, _ := f.bot().GetUsersInConversationContext(ctx, &sdk.GetUsersInConversationParameters{ChannelID: "C0SECURITYLEADS"})
	if !slices.Equal(leads, []string{ada, margaret, slackemu.BotUserID}) {
		t.Errorf("security leads %v", leads)
	}

	// Paging through #general, three at a time.
	var all []string
	cursor, pages := "", 0
	for {
		page, next, err := f.bot().GetUsersInConversationContext(ctx, &sdk.GetUsersInConversationParameters{ChannelID: "C0GENERAL", Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d", len(page))
		}
		all, cursor, pages = append(all, page...), next, pages+1
		if cursor == "" {
			break
		}
	}
	// Every active seeded Slack user (all but Dennis Ritchie) and the bot.
	if want := slackUsers - 1 + 1; len(all) != want || pages != (want+2)/3 || !slices.Contains(all, slackemu.BotUserID) || slices.Contains(all, "U00001008") {
		t.Errorf("general: %d members in %d pages: %v", len(all), pages, all)
	}

	groups, err := f.bot().GetUserGroupMembersContext(ctx, slackemu.SecurityGroupID)
	if err != nil || !slices.Equal(groups, []string{margaret, katherine}) {
		t.Errorf("security group %v %v", groups, err)
	}
	list, err := f.bot().GetUserGroupsContext(ctx, sdk.GetUserGroupsOptionIncludeUsers(true))
	if err != nil || len(list) != 1 || list[0].Handle != "security-team" || len(list[0].Users) != 2 {
		t.Errorf("usergroups.list %+v %v", list, err)
	}

	// A deactivated approver leaves the channel and the group.
	f.call(t, http.MethodDelete, "/scim/v2/Users/"+katherine, slackemu.DefaultAdminToken, nil, "")
	members, _, _ = f.bot().GetUsersInConversationContext(ctx, &sdk.GetUsersInConversationParameters{ChannelID: "C0APPROVALS"})
	groups, _ = f.bot().GetUserGroupMembersContext(ctx, slackemu.SecurityGroupID)
	if slices.Contains(members, katherine) || slices.Contains(groups, katherine) {
		t.Errorf("after deactivation: members %v group %v", members, groups)
	}

	narrow := setup(t, slackemu.Options{BotScopes: []string{"channels:read", "chat:write"}})
	cases := map[string]struct {
		err  error
		want string
	}{
		"unknown channel": {func() error {
			_, err := f.bot().GetConversationInfoContext(ctx, &sdk.GetConversationInfoInput{ChannelID: "C0NOSUCHONE"})
			return err
		}(), "channel_not_found"},
		"bad token": {func() error {
			_, err := f.sdkClient("xoxb-wrong").GetConversationInfoContext(ctx, &sdk.GetConversationInfoInput{ChannelID: "C0APPROVALS"})
			return err
		}(), "invalid_auth"},
		"private without groups:read": {func() error {
			_, err := narrow.bot().GetConversationInfoContext(ctx, &sdk.GetConversationInfoInput{ChannelID: "C0APPROVALS"})
			return err
		}(), "missing_scope"},
		"bad cursor": {func() error {
			_, _, err := f.bot().GetUsersInConversationContext(ctx, &sdk.GetUsersInConversationParameters{ChannelID: "C0GENERAL", Cursor: "nope"})
			return err
		}(), "invalid_cursor"},
		"unknown group": {func() error { _, err := f.bot().GetUserGroupMembersContext(ctx, "S0NOPE"); return err }(), "no_such_subteam"},
		"group without usergroups:read": {func() error {
			_, err := narrow.bot().GetUserGroupMembersContext(ctx, slackemu.SecurityGroupID)
			return err
		}(), "missing_scope"},
		"post to unknown channel": {func() error {
			_, _, err := f.bot().PostMessageContext(ctx, "C0NOSUCHONE", sdk.MsgOptionText("x", false))
			return err
		}(), "channel_not_found"},
		"post to unknown name": {func() error {
			_, _, err := f.bot().PostMessageContext(ctx, "#nowhere", sdk.MsgOptionText("x", false))
			return err
		}(), "channel_not_found"},
		"post where the bot is not": {func() error {
			_, _, err := f.bot().PostMessageContext(ctx, slackemu.RandomChannelID, sdk.MsgOptionText("x", false))
			return err
		}(), "not_in_channel"},
		"post with a bad token": {func() error {
			_, _, err := f.sdkClient("xoxb-wrong").PostMessageContext(ctx, "C0APPROVALS", sdk.MsgOptionText("x", false))
			return err
		}(), "invalid_auth"},
	}
	for name, c := range cases {
		if got := slackErr(c.err); got != c.want {
			t.Errorf("%s: %q, want %s", name, got, c.want)
		}
	}
	// A channel name finds the channel.
	if ch, _, err := f.bot().PostMessageContext(ctx, "#offboard-ops", sdk.MsgOptionText("x", false)); err != nil || ch != slackemu.OffboardOpsChannelID {
		t.Errorf("post by name: %q %v", ch, err)
	}
}

func TestEphemeralThreadsAndTimeline(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	ctx := t.Context()
	_, root, err := f.bot().PostMessageContext(ctx, "C0APPROVALS", sdk.MsgOptionText("Offboard Ada?", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := f.bot().PostMessageContext(ctx, "C0APPROVALS", sdk.MsgOptionText("Waiting on a second approver", false), sdk.MsgOptionTS(root))
	if err != nil {
		t.Fatal(err)
	}
	ets, err := f.bot().PostEphemeralContext(ctx, "C0APPROVALS", margaret, sdk.MsgOptionText("Only you can see this", false),
		sdk.MsgOptionBlocks(sdk.NewDividerBlock()))
	if err != nil || ets == "" {
		t.Fatalf("ephemeral %q %v", ets, err)
	}
	if _, _, _, err := f.bot().UpdateMessageContext(ctx, "C0APPROVALS", root, sdk.MsgOptionText("Approved", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.bot().UpdateMessageContext(ctx, "C0APPROVALS", ets, sdk.MsgOptionText("x", false)); slackErr(err) != "message_not_found" {
		t.Errorf("chat.update of an ephemeral: %v", err)
	}
	if _, err := f.bot().PostEphemeralContext(ctx, "C0APPROVALS", grace, sdk.MsgOptionText("x", false)); slackErr(err) != "user_not_in_channel" {
		t.Errorf("ephemeral to a non-member: %v", err)
	}
	if _, err := f.bot().PostEphemeralContext(ctx, "C0NOSUCHONE", margaret, sdk.MsgOptionText("x", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("ephemeral to an unknown channel: %v", err)
	}

	a := f.call(t, http.MethodGet, "/_emulator/messages", "", nil, "")
	var got struct {
		Messages []slackemu.Post `json:"messages"`
	}
	if err := json.Unmarshal([]byte(a.raw), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct{ kind, ts, thread, user, text string }{
		{slackemu.KindMessage, root, "", "", "Offboard Ada?"},
		{slackemu.KindMessage, reply, root, "", "Waiting on a second approver"},
		{slackemu.KindEphemeral, ets, "", margaret, "Only you can see this"},
		{slackemu.KindUpdate, root, "", "", "Approved"},
	}
	if len(got.Messages) != len(want) {
		t.Fatalf("timeline %s", a.raw)
	}
	for i, w := range want {
		m := got.Messages[i]
		if m.Kind != w.kind || m.TS != w.ts || m.ThreadTS != w.thread || m.User != w.user || m.Text != w.text || m.Channel != "C0APPROVALS" ||
			m.Author != slackemu.BotUserID || m.Seq != i+1 {
			t.Errorf("entry %d: %+v, want %+v", i, m, w)
		}
	}
	if countBlocks(t, got.Messages[2].Blocks) != 1 || !strings.Contains(a.raw, `"threadTs":"`+root+`"`) {
		t.Errorf("timeline JSON %s", a.raw)
	}
}

// receiver is offboard's interactivity endpoint in a test: it checks the
// signature as offboard must and hands the payload to answer.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []sdk.InteractionCallback
	raw []string
	// answer is called with the verified payload; nil answers 200 empty.
	answer func(w http.ResponseWriter, cb sdk.InteractionCallback)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			http.Error(w, "content type "+ct, http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		sv, err := sdk.NewSecretsVerifier(r.Header, secret)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, _ = sv.Write(body)
		if err := sv.Ensure(); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form) != 1 {
			http.Error(w, "form", http.StatusBadRequest)
			return
		}
		var cb sdk.InteractionCallback
		if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, cb)
		rc.raw = append(rc.raw, form.Get("payload"))
		answer := rc.answer
		rc.mu.Unlock()
		if answer != nil {
			answer(w, cb)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) last(t *testing.T) (sdk.InteractionCallback, map[string]any) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) == 0 {
		t.Fatal("nothing delivered")
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(rc.raw[len(rc.raw)-1]), &raw)
	return rc.got[len(rc.got)-1], raw
}

func (rc *receiver) setAnswer(fn func(w http.ResponseWriter, cb sdk.InteractionCallback)) {
	rc.mu.Lock()
	rc.answer = fn
	rc.mu.Unlock()
}

func (f *fixture) interactive(t *testing.T) *receiver {
	t.Helper()
	rc := newReceiver(t)
	a := f.call(t, http.MethodPost, "/_emulator/interactivity", "", nil, `{"url":"`+rc.srv.URL+`/slack/interactivity","signingSecret":"`+secret+`"}`)
	if a.status != http.StatusOK || a.body["signingSecretSet"] != true {
		t.Fatalf("interactivity: %d %s", a.status, a.raw)
	}
	return rc
}

// click posts to /_emulator/click; the answer is the app's, JSON or not.
func (f *fixture) click(t *testing.T, body string) answer {
	t.Helper()
	resp, err := f.ts.Client().Post(f.ts.URL+"/_emulator/click", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (f *fixture) postApproval(t *testing.T) string {
	t.Helper()
	blocks := []sdk.Block{
		sdk.NewSectionBlock(sdk.NewTextBlockObject(sdk.MarkdownType, "*Offboard Ada Lovelace?*", false, false), nil, nil),
		sdk.NewActionBlock("decision",
			sdk.NewButtonBlockElement("approve", "case-1", sdk.NewTextBlockObject(sdk.PlainTextType, "Approve", false, false)).WithStyle(sdk.StylePrimary),
			sdk.NewButtonBlockElement("deny", "case-1", sdk.NewTextBlockObject(sdk.PlainTextType, "Deny", false, false)).WithStyle(sdk.StyleDanger)),
	}
	_, ts, err := f.bot().PostMessageContext(t.Context(), "C0APPROVALS", sdk.MsgOptionText("Offboard Ada Lovelace?", false), sdk.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestClickDeliversSignedBlockActions(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	rc := f.interactive(t)
	ts := f.postApproval(t)
	// Offboard opens a modal from inside its handler, with the fresh
	// trigger_id, as it must within 3 s.
	var opened *sdk.ViewResponse
	var openErr error
	rc.setAnswer(func(w http.ResponseWriter, cb sdk.InteractionCallback) {
		opened, openErr = f.bot().OpenViewContext(t.Context(), cb.TriggerID, sdk.ModalViewRequest{
			Type: sdk.VTModal, Title: sdk.NewTextBlockObject(sdk.PlainTextType, "Deny offboarding", false, false),
			Blocks: sdk.Blocks{BlockSet: []sdk.Block{sdk.NewDividerBlock()}}, PrivateMetadata: "case-1", CallbackID: "deny-reason",
		})
		w.WriteHeader(http.StatusOK)
	})
	a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"deny","user":"`+margaret+`"}`)
	if a.status != http.StatusOK || a.header.Get("X-Emulator-Delivered") != "true" || a.header.Get("X-Emulator-Payload-Type") != "block_actions" {
		t.Fatalf("click: %d %v %s", a.status, a.header, a.raw)
	}
	cb, raw := rc.last(t)
	if cb.Type != sdk.InteractionTypeBlockActions || cb.Team.ID != "T0ACME0001" || cb.Team.Domain != "example" || cb.User.ID != margaret ||
		cb.User.Name != "margaret.hamilton" || cb.User.TeamID != "T0ACME0001" || cb.APIAppID != slackemu.AppID || cb.Token != slackemu.DefaultVerificationToken {
		t.Errorf("identity fields: %s", rc.raw[0])
	}
	if cb.Container.Type != "message" || cb.Container.MessageTs != ts || cb.Container.ChannelID != "C0APPROVALS" || cb.Container.IsEphemeral ||
		cb.Channel.ID != "C0APPROVALS" || cb.Channel.Name != "offboard-approvals" {
		t.Errorf("container/channel: %+v %+v", cb.Container, cb.Channel)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("actions %s", rc.raw[0])
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != "deny" || act.BlockID != "decision" || act.Value != "case-1" || act.Type != "button" || act.ActionTs == "" || act.Text.Text != "Deny" {
		t.Errorf("action %+v", act)
	}
	if cb.Message.Timestamp != ts || cb.Message.Text != "Offboard Ada Lovelace?" || len(cb.Message.Blocks.BlockSet) != 2 || cb.Message.BotID != slackemu.BotID {
		t.Errorf("message %+v", cb.Message)
	}
	parts := strings.Split(cb.TriggerID, ".")
	if len(parts) != 3 || a.header.Get("X-Emulator-Trigger-Id") != cb.TriggerID {
		t.Errorf("trigger_id %q", cb.TriggerID)
	}
	if !strings.HasPrefix(cb.ResponseURL, f.ts.URL+"/_emulator/response/") || a.header.Get("X-Emulator-Response-Url") != cb.ResponseURL {
		t.Errorf("response_url %q", cb.ResponseURL)
	}
	if _, ok := raw["enterprise"].(map[string]any); !ok || raw["is_enterprise_install"] != false {
		t.Errorf("enterprise fields: %v", raw)
	}
	if openErr != nil || opened == nil || !strings.HasPrefix(opened.ID, "V") || opened.PrivateMetadata != "case-1" || opened.Hash == "" || opened.TeamID != "T0ACME0001" {
		t.Fatalf("views.open from the handler: %+v %v", opened, openErr)
	}
	views := f.srv.Views()
	if len(views) != 1 || views[0].ID != opened.ID || views[0].User != margaret || views[0].Status != "open" || views[0].CallbackID != "deny-reason" {
		t.Errorf("views %+v", views)
	}

	// What offboard answers is what the click answers.
	rc.setAnswer(func(w http.ResponseWriter, _ sdk.InteractionCallback) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
	})
	if a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"approve","user":"`+katherine+`"}`); a.status != http.StatusTeapot ||
		a.raw != "short and stout" || a.header.Get("Content-Type") != "text/plain" {
		t.Errorf("relayed answer %d %q %v", a.status, a.raw, a.header)
	}
}

func TestClickRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	ts := f.postApproval(t)
	if a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"approve","user":"`+margaret+`"}`); a.status != http.StatusConflict {
		t.Errorf("no interactivity URL: %d %s", a.status, a.raw)
	}
	rc := f.interactive(t)
	cases := map[string]struct {
		body string
		want int
	}{
		"unknown message":    {`{"channel":"C0APPROVALS","ts":"1.000001","actionId":"approve","user":"` + margaret + `"}`, http.StatusNotFound},
		"unknown action":     {`{"channel":"C0APPROVALS","ts":"` + ts + `","actionId":"nope","user":"` + margaret + `"}`, http.StatusNotFound},
		"outsider":           {`{"channel":"C0APPROVALS","ts":"` + ts + `","actionId":"approve","user":"` + grace + `"}`, http.StatusForbidden},
		"deactivated":        {`{"channel":"C0APPROVALS","ts":"` + ts + `","actionId":"approve","user":"U00001008"}`, http.StatusForbidden},
		"unknown field":      {`{"channel":"C0APPROVALS","ts":"` + ts + `","actionId":"approve","user":"` + margaret + `","bogus":1}`, http.StatusBadRequest},
		"unknown view":       {`{"viewId":"V0NOPE","user":"` + margaret + `"}`, http.StatusNotFound},
		"wrong block for it": {`{"channel":"C0APPROVALS","ts":"` + ts + `","actionId":"approve","blockId":"other","user":"` + margaret + `"}`, http.StatusNotFound},
	}
	for name, c := range cases {
		if a := f.click(t, c.body); a.status != c.want || a.header.Get("X-Emulator-Delivered") != "" {
			t.Errorf("%s: %d %s, want %d", name, a.status, a.raw, c.want)
		}
	}
	rc.mu.Lock()
	n := len(rc.got)
	rc.mu.Unlock()
	if n != 0 {
		t.Errorf("refused clicks delivered %d payloads", n)
	}
	// Forged requests: offboard must refuse them.
	old := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
	for name, extra := range map[string]string{
		"stale timestamp": `,"timestamp":` + old,
		"wrong secret":    `,"signingSecret":"not-the-secret"`,
	} {
		a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"approve","user":"`+margaret+`"`+extra+`}`)
		if a.status != http.StatusUnauthorized || a.header.Get("X-Emulator-Delivered") != "true" {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"approve","user":"`+margaret+`","teamId":"T0EVIL"}`)
	if cb, _ := rc.last(t); a.status != http.StatusOK || cb.Team.ID != "T0EVIL" || cb.User.TeamID != "T0EVIL" {
		t.Errorf("team override: %d %+v", a.status, cb.Team)
	}
	// A slow app: Slack gives up after 3 s; here after the configured wait.
	g := setup(t, slackemu.Options{InteractivityTimeout: 50 * time.Millisecond})
	slow := g.interactive(t)
	done := make(chan struct{})
	slow.setAnswer(func(http.ResponseWriter, sdk.InteractionCallback) { <-done })
	defer close(done)
	gts := g.postApproval(t)
	if a := g.click(t, `{"channel":"C0APPROVALS","ts":"`+gts+`","actionId":"approve","user":"`+margaret+`"}`); a.status != http.StatusGatewayTimeout {
		t.Errorf("slow app: %d %s", a.status, a.raw)
	}
}

func TestTriggerIDs(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	f.interactive(t)
	ts := f.postApproval(t)
	modal := sdk.ModalViewRequest{Type: sdk.VTModal, Title: sdk.NewTextBlockObject(sdk.PlainTextType, "Why?", false, false),
		Blocks: sdk.Blocks{BlockSet: []sdk.Block{sdk.NewDividerBlock()}}}
	trigger := func() string {
		a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"deny","user":"`+margaret+`"}`)
		if a.status != http.StatusOK {
			t.Fatalf("click %d %s", a.status, a.raw)
		}
		return a.header.Get("X-Emulator-Trigger-Id")
	}
	tid := trigger()
	if _, err := f.bot().OpenViewContext(t.Context(), tid, modal); err != nil {
		t.Fatal(err)
	}
	if _, err := f.bot().OpenViewContext(t.Context(), tid, modal); slackErr(err) != "exchanged_trigger_id" {
		t.Errorf("second use: %v", err)
	}
	late := trigger()
	f.clock.Add(3100 * time.Millisecond)
	if _, err := f.bot().OpenViewContext(t.Context(), late, modal); slackErr(err) != "expired_trigger_id" {
		t.Errorf("after 3 s: %v", err)
	}
	if _, err := f.bot().OpenViewContext(t.Context(), "123.456.abcdef", modal); slackErr(err) != "invalid_trigger_id" {
		t.Errorf("made up: %v", err)
	}
	// A bad view does not use the trigger up.
	fresh := trigger()
	bad := modal
	bad.Title = nil
	if _, err := f.bot().OpenViewContext(t.Context(), fresh, bad); slackErr(err) != "invalid_arguments" {
		t.Errorf("view without title: %v", err)
	}
	if _, err := f.bot().OpenViewContext(t.Context(), fresh, modal); err != nil {
		t.Errorf("after a bad view: %v", err)
	}
}

func TestViewSubmission(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	rc := f.interactive(t)
	ts := f.postApproval(t)
	a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"deny","user":"`+margaret+`"}`)
	reason := sdk.NewInputBlock("reason", sdk.NewTextBlockObject(sdk.PlainTextType, "Reason", false, false), nil,
		sdk.NewPlainTextInputBlockElement(nil, "reason_text"))
	severity := sdk.NewInputBlock("severity", sdk.NewTextBlockObject(sdk.PlainTextType, "Severity", false, false), nil,
		sdk.NewOptionsSelectBlockElement(sdk.OptTypeStatic, nil, "severity_pick",
			sdk.NewOptionBlockObject("low", sdk.NewTextBlockObject(sdk.PlainTextType, "Low", false, false), nil),
			sdk.NewOptionBlockObject("high", sdk.NewTextBlockObject(sdk.PlainTextType, "High", false, false), nil)))
	severity.Optional = true
	modal := sdk.ModalViewRequest{Type: sdk.VTModal, Title: sdk.NewTextBlockObject(sdk.PlainTextType, "Deny", false, false),
		Submit: sdk.NewTextBlockObject(sdk.PlainTextType, "Deny", false, false), PrivateMetadata: `{"case":"case-1"}`, CallbackID: "deny",
		Blocks: sdk.Blocks{BlockSet: []sdk.Block{reason, severity}}}
	noSubmit := modal
	noSubmit.Submit = nil
	if _, err := f.bot().OpenViewContext(t.Context(), a.header.Get("X-Emulator-Trigger-Id"), noSubmit); slackErr(err) != "invalid_arguments" {
		t.Errorf("inputs without submit: %v", err)
	}
	v, err := f.bot().OpenViewContext(t.Context(), a.header.Get("X-Emulator-Trigger-Id"), modal)
	if err != nil {
		t.Fatal(err)
	}
	// Slack's client will not submit an empty required input.
	if a := f.click(t, `{"viewId":"`+v.ID+`","user":"`+margaret+`"}`); a.status != http.StatusBadRequest {
		t.Errorf("empty required input: %d %s", a.status, a.raw)
	}
	if a := f.click(t, `{"viewId":"`+v.ID+`","user":"`+katherine+`","values":{"reason":{"reason_text":"x"}}}`); a.status != http.StatusForbidden {
		t.Errorf("someone else's view: %d %s", a.status, a.raw)
	}
	if a := f.click(t, `{"viewId":"`+v.ID+`","user":"`+margaret+`","values":{"reason":{"nope":"x"}}}`); a.status != http.StatusBadRequest {
		t.Errorf("unknown input: %d %s", a.status, a.raw)
	}
	rc.setAnswer(func(w http.ResponseWriter, _ sdk.InteractionCallback) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response_action":"errors","errors":{"reason":"Say more"}}`)
	})
	a = f.click(t, `{"viewId":"`+v.ID+`","user":"`+margaret+`","values":{"reason":{"reason_text":"no"},"severity":{"severity_pick":"high"}}}`)
	if a.status != http.StatusOK || a.body["response_action"] != "errors" || a.header.Get("X-Emulator-Payload-Type") != "view_submission" {
		t.Fatalf("submission: %d %s", a.status, a.raw)
	}
	cb, raw := rc.last(t)
	if cb.Type != sdk.InteractionTypeViewSubmission || cb.View.ID != v.ID || cb.View.PrivateMetadata != `{"case":"case-1"}` || cb.View.CallbackID != "deny" ||
		cb.User.ID != margaret || cb.TriggerID == "" || cb.View.Hash != v.Hash {
		t.Errorf("view_submission %s", rc.raw[len(rc.raw)-1])
	}
	if got := cb.View.State.Values["reason"]["reason_text"]; got.Value != "no" || got.Type != "plain_text_input" {
		t.Errorf("reason state %+v", got)
	}
	if got := cb.View.State.Values["severity"]["severity_pick"]; got.SelectedOption.Value != "high" || got.SelectedOption.Text.Text != "High" {
		t.Errorf("severity state %+v", got)
	}
	if _, ok := raw["response_urls"].([]any); !ok {
		t.Errorf("no response_urls: %v", raw)
	}
	if vs := f.srv.Views(); vs[0].Status != "open" || vs[0].Errors["reason"] != "Say more" || vs[0].Submissions != 1 {
		t.Errorf("after errors: %+v", vs[0])
	}
	rc.setAnswer(nil)
	a = f.click(t, `{"viewId":"`+v.ID+`","user":"`+margaret+`","values":{"reason":{"reason_text":"Still employed"}}}`)
	if a.status != http.StatusOK {
		t.Fatalf("second submission %d", a.status)
	}
	cb, _ = rc.last(t)
	if got := cb.View.State.Values["severity"]["severity_pick"]; got.SelectedOption.Value != "" {
		t.Errorf("unset select %+v", got)
	}
	w := f.call(t, http.MethodGet, "/_emulator/views", "", nil, "")
	vs, _ := w.body["views"].([]any)
	if len(vs) != 1 || vs[0].(map[string]any)["status"] != "closed" || vs[0].(map[string]any)["privateMetadata"] != `{"case":"case-1"}` {
		t.Errorf("views endpoint %s", w.raw)
	}
	if a := f.click(t, `{"viewId":"`+v.ID+`","user":"`+margaret+`","values":{"reason":{"reason_text":"again"}}}`); a.status != http.StatusConflict {
		t.Errorf("closed view: %d", a.status)
	}
}

func TestResponseURL(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	f.interactive(t)
	ts := f.postApproval(t)
	click := func() string {
		a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"approve","user":"`+margaret+`"}`)
		return a.header.Get("X-Emulator-Response-Url")
	}
	ru := click()
	ctx := t.Context()
	// An ephemeral answer to the clicker, the way slack-go sends it.
	if _, _, err := f.bot().PostMessageContext(ctx, "", sdk.MsgOptionResponseURL(ru, sdk.ResponseTypeEphemeral), sdk.MsgOptionText("Recorded your approval", false)); err != nil {
		t.Fatal(err)
	}
	// Then replace the original.
	done := sdk.NewSectionBlock(sdk.NewTextBlockObject(sdk.MarkdownType, "Approved by <@"+margaret+">", false, false), nil, nil)
	if _, _, err := f.bot().PostMessageContext(ctx, "", sdk.MsgOptionReplaceOriginal(ru), sdk.MsgOptionText("Approved", false), sdk.MsgOptionBlocks(done)); err != nil {
		t.Fatal(err)
	}
	posts := f.srv.Posts()
	if len(posts) != 3 {
		t.Fatalf("posts %+v", posts)
	}
	e, r := posts[1], posts[2]
	if e.Kind != slackemu.KindEphemeral || e.User != margaret || e.Text != "Recorded your approval" || e.Via != "response_url" || e.ResponseType != "ephemeral" || e.Channel != "C0APPROVALS" {
		t.Errorf("ephemeral answer %+v", e)
	}
	var rb []map[string]map[string]string
	_ = json.Unmarshal(r.Blocks, &rb)
	if r.Kind != slackemu.KindUpdate || r.TS != ts || !r.ReplaceOriginal || r.Text != "Approved" || len(rb) != 1 || rb[0]["text"]["text"] != "Approved by <@"+margaret+">" {
		t.Errorf("replacement %+v %s", r, r.Blocks)
	}
	if m := f.srv.Messages(); len(m) != 1 || m[0].Text != "Approved" || len(m[0].Edits) != 1 {
		t.Errorf("message after replace %+v", m)
	}
	// The button in the replaced message is gone.
	if a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"approve","user":"`+margaret+`"}`); a.status != http.StatusNotFound {
		t.Errorf("click on a replaced message: %d", a.status)
	}
	post := func(u, body string) answer {
		return f.call(t, http.MethodPost, strings.TrimPrefix(u, f.ts.URL), "", nil, body)
	}
	for range 3 {
		if a := post(ru, `{"text":"more"}`); a.status != http.StatusOK {
			t.Fatalf("use: %d %s", a.status, a.raw)
		}
	}
	if a := post(ru, `{"text":"sixth"}`); a.status != http.StatusNotFound || a.body["error"] != "used_url" {
		t.Errorf("sixth use: %d %s", a.status, a.raw)
	}
	if a := post(f.ts.URL+"/_emulator/response/nope", `{"text":"x"}`); a.status != http.StatusNotFound {
		t.Errorf("unknown url: %d", a.status)
	}
	// in_channel posts a new message; the URL lapses after 30 minutes.
	ts2 := f.postApproval(t)
	a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts2+`","actionId":"deny","user":"`+katherine+`"}`)
	ru2 := a.header.Get("X-Emulator-Response-Url")
	if a := post(ru2, `{"text":"Denied by Katherine","response_type":"in_channel"}`); a.status != http.StatusOK {
		t.Fatalf("in_channel: %d", a.status)
	}
	if last := f.srv.Posts(); last[len(last)-1].Kind != slackemu.KindMessage || last[len(last)-1].ResponseType != "in_channel" || len(f.srv.Messages()) != 3 {
		t.Errorf("in_channel answer %+v", last[len(last)-1])
	}
	if a := post(ru2, `{"delete_original":true}`); a.status != http.StatusOK {
		t.Fatalf("delete: %d %s", a.status, a.raw)
	}
	if m := f.srv.Messages(); !m[1].Deleted {
		t.Errorf("delete_original left %+v", m[1])
	}
	f.clock.Add(31 * time.Minute)
	if a := post(ru2, `{"text":"late"}`); a.status != http.StatusNotFound || a.body["error"] != "expired_url" {
		t.Errorf("after 30 min: %d %s", a.status, a.raw)
	}
}

func TestClickOnEphemeral(t *testing.T) {
	t.Parallel()
	f := setup(t, slackemu.Options{})
	rc := f.interactive(t)
	btn := sdk.NewActionBlock("confirm", sdk.NewButtonBlockElement("really", "yes", sdk.NewTextBlockObject(sdk.PlainTextType, "Really?", false, false)))
	ets, err := f.bot().PostEphemeralContext(t.Context(), "C0APPROVALS", margaret, sdk.MsgOptionText("Sure?", false), sdk.MsgOptionBlocks(btn))
	if err != nil {
		t.Fatal(err)
	}
	if a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ets+`","actionId":"really","user":"`+katherine+`"}`); a.status != http.StatusForbidden {
		t.Errorf("someone else clicks an ephemeral: %d", a.status)
	}
	a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ets+`","actionId":"really","user":"`+margaret+`"}`)
	cb, raw := rc.last(t)
	if a.status != http.StatusOK || !cb.Container.IsEphemeral || cb.Container.MessageTs != ets || raw["message"] != nil {
		t.Errorf("ephemeral click: %d %s", a.status, rc.raw[len(rc.raw)-1])
	}
	if a := f.call(t, http.MethodPost, strings.TrimPrefix(cb.ResponseURL, f.ts.URL), "", nil, `{"text":"Done","replace_original":true}`); a.status != http.StatusOK {
		t.Fatalf("replace ephemeral %d %s", a.status, a.raw)
	}
	posts := f.srv.Posts()
	if p := posts[len(posts)-1]; p.Kind != slackemu.KindEphemeral || p.TS != ets || !p.ReplaceOriginal || p.User != margaret {
		t.Errorf("replaced ephemeral %+v", p)
	}
}

func TestInteractivityOptionsAndSaveLoad(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	f := setup(t, slackemu.Options{InteractivityURL: rc.srv.URL, SigningSecret: secret})
	ts := f.postApproval(t)
	if a := f.click(t, `{"channel":"C0APPROVALS","ts":"`+ts+`","actionId":"approve","user":"`+margaret+`"}`); a.status != http.StatusOK {
		t.Fatalf("click with Options: %d %s", a.status, a.raw)
	}
	g := f.call(t, http.MethodGet, "/_emulator/interactivity", "", nil, "")
	if g.body["url"] != rc.srv.URL || strings.Contains(g.raw, secret) {
		t.Errorf("GET interactivity %s", g.raw)
	}
	if a := f.call(t, http.MethodPost, "/_emulator/interactivity", "", nil, `{"url":"not a url"}`); a.status != http.StatusBadRequest {
		t.Errorf("bad url: %d", a.status)
	}
	// Channels, ephemerals, the timeline and response_urls survive a
	// restart; a state saved before channels existed gets the defaults.
	var buf strings.Builder
	if err := f.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	h := setup(t, slackemu.Options{})
	if err := h.srv.LoadState(strings.NewReader(buf.String())); err != nil {
		t.Fatal(err)
	}
	if len(h.srv.Posts()) != 1 {
		t.Errorf("posts after load %+v", h.srv.Posts())
	}
	var st map[string]any
	_ = json.Unmarshal([]byte(buf.String()), &st)
	delete(st, "channels")
	delete(st, "userGroups")
	old, _ := json.Marshal(st)
	if err := h.srv.LoadState(strings.NewReader(string(old))); err != nil {
		t.Fatal(err)
	}
	if m, _, err := h.bot().GetUsersInConversationContext(t.Context(), &sdk.GetUsersInConversationParameters{ChannelID: "C0APPROVALS"}); err != nil || len(m) != 3 {
		t.Errorf("defaults after an old state: %v %v", m, err)
	}
}

func TestSecurityPeople(t *testing.T) {
	t.Parallel()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if got := slackemu.SecurityPeople(org); !slices.Equal(got, []string{margaret, katherine}) {
		t.Errorf("security people %v", got)
	}
	if slackemu.SecurityPeople(nil) != nil {
		t.Error("nil org has security people")
	}
}
