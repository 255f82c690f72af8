package activities_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/connectorstest"
	"github.com/offboard/offboard/connectors/okta"
	oktaemu "github.com/offboard/offboard/emulators/okta"
	"github.com/offboard/offboard/emulators/seed"
	"github.com/offboard/offboard/evidence"
)

// watchFixture is the Okta emulator with the real connector, and
// activities keeping evidence in a directory.
type watchFixture struct {
	ts    *httptest.Server
	acts  *activities.Activities
	store *evidence.Dir
	key   ed25519.PrivateKey
	c     *okta.Client
}

func newWatchFixture(t *testing.T) *watchFixture {
	t.Helper()
	org, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(oktaemu.New(org, oktaemu.Options{}))
	t.Cleanup(ts.Close)
	c, err := okta.New(t.Context(), okta.Config{OrgURL: ts.URL, Token: config.Secret(oktaemu.DefaultToken),
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Retry: connectorstest.RetryOr(nil)})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := activities.New("okta", c)
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	store := evidence.NewDir(t.TempDir())
	activities.WithEvidence(acts, &activities.Collector{Store: store, Key: key, Days: 28, Version: "test"})
	return &watchFixture{ts: ts, acts: acts, store: store, key: key, c: c}
}

func (f *watchFixture) resolve(t *testing.T, emp string) connectors.Account {
	t.Helper()
	a, err := f.c.Resolve(t.Context(), connectors.Subject{EmployeeID: emp})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *watchFixture) attempt(t *testing.T, account, ip string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"account": account, "ip": ip})
	resp, err := http.Post(f.ts.URL+"/_emulator/attempt", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("attempt: %s", resp.Status)
	}
}

// A poll finds the person's sign-in attempt and seals it (raw event kept)
// in a bundle that verifies; an event already seen is not found again; an
// indicator IP finds another account's sign-in.
func TestWatchPoll(t *testing.T) {
	f := newWatchFixture(t)
	ada := f.resolve(t, "E1001")
	other := f.resolve(t, "E1002")
	since := time.Now().Add(-time.Second).UTC()
	f.attempt(t, ada.ID, "45.14.71.9")
	f.attempt(t, other.ID, "198.51.100.77")
	until := time.Now().Add(time.Second).UTC()
	in := activities.PollInput{CaseID: "offboard/E1001", EmployeeID: "E1001", Accounts: []connectors.Account{ada},
		Since: since, Until: until, Name: "E1001-watch-r-1"}

	res, err := f.acts.WatchPoll(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Found) != 1 || res.Found[0].Why != "account" || res.Found[0].Event.SourceIP != "45.14.71.9" || res.Found[0].Event.Raw != nil {
		t.Fatalf("found %+v", res.Found)
	}
	if res.Bundle != "E1001-watch-r-1" || res.Digest == "" {
		t.Fatalf("bundle %q digest %q", res.Bundle, res.Digest)
	}
	rep, err := evidence.Verify(t.Context(), f.store, res.Bundle, f.key.Public().(ed25519.PublicKey))
	if err != nil || !rep.OK() {
		t.Fatalf("the poll's bundle does not verify: %v %+v", err, rep.Problems)
	}
	evs, err := evidence.ReadEvents(t.Context(), f.store, res.Bundle)
	if err != nil || len(evs) != 1 || evs[0].Action != "user.session.start" {
		t.Fatalf("sealed events %+v %v", evs, err)
	}

	in.Seen, in.Name = []string{res.Found[0].Key}, "E1001-watch-r-2"
	again, err := f.acts.WatchPoll(t.Context(), in)
	if err != nil || len(again.Found) != 0 || again.Bundle != "" {
		t.Fatalf("a seen event found again: %+v %v", again, err)
	}

	in.Indicators.IPs, in.Name = []string{"198.51.100.77"}, "E1001-watch-r-3"
	ind, err := f.acts.WatchPoll(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(ind.Found) != 1 || ind.Found[0].Why != "indicator" || ind.Found[0].Indicator != "198.51.100.77" || ind.Found[0].Event.Actor != other.ID {
		t.Fatalf("indicator search found %+v", ind.Found)
	}
}

// WhoChanged names the admin who unsuspended the user, never the user.
func TestWhoChanged(t *testing.T) {
	f := newWatchFixture(t)
	ada := f.resolve(t, "E1001")
	since := time.Now().Add(-time.Second).UTC()
	for _, op := range []string{"suspend", "unsuspend"} {
		req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/api/v1/users/"+ada.ID+"/lifecycle/"+op, nil)
		req.Header.Set("Authorization", "SSWS "+oktaemu.DefaultToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	evs, err := f.acts.WhoChanged(t.Context(), activities.ChangesInput{Account: ada, Since: since, Until: time.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Action != "user.lifecycle.unsuspend" || evs[1].Actor == "" || evs[1].Actor == ada.ID {
		t.Fatalf("changes %+v", evs)
	}
}

// SealReport keeps the message whole (hash and bytes), extracts its
// indicators and matches them against the snapshot's events.
func TestSealReport(t *testing.T) {
	f := newWatchFixture(t)
	cut := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	var clones []evidence.Event
	for i := range 31 {
		clones = append(clones, evidence.Event{Time: time.Date(2026, 11, 20, 9, i, 0, 0, time.UTC), System: "github", Actor: "ada",
			Action: "git.clone", Target: "acme/payments-api", SourceIP: "45.14.71.9", ASN: "AS9009", Raw: json.RawMessage(`{}`)})
	}
	if _, err := evidence.Seal(t.Context(), f.store, "E1001-snap", evidence.ManifestInfo{CaseID: "offboard/E1001", EmployeeID: "E1001",
		Window: evidence.Window{From: cut.AddDate(0, 0, -28), To: cut}}, []evidence.Source{{System: "github", Events: clones}}, f.key); err != nil {
		t.Fatal(err)
	}
	msg := []byte("From: \"J\" <jt.dev.ops@proton.me>\r\nSubject: your code\r\nContent-Type: text/plain\r\n\r\n" +
		"We have acme/payments-api. Pay 2 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq within 72 hours.\r\n")
	res, err := f.acts.SealReport(t.Context(), activities.ReportInput{CaseID: "offboard/E1001", EmployeeID: "E1001", Kind: activities.ReportExtortion,
		By: "soc", At: cut.AddDate(0, 0, 3), Message: msg, Snapshot: "E1001-snap", Name: "E1001-report-r-1"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(msg)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != len(msg) {
		t.Errorf("hash %s size %d", res.SHA256, res.Size)
	}
	if len(res.Indicators.Wallets) != 1 || res.Indicators.Wallets[0].Address != "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" {
		t.Errorf("wallets %+v", res.Indicators.Wallets)
	}
	if len(res.Matches) == 0 || !strings.Contains(res.Matches[0].Summary, "acme/payments-api") || res.Matches[0].Events != 31 {
		t.Fatalf("matches %+v", res.Matches)
	}
	rep, err := evidence.Verify(t.Context(), f.store, res.Bundle, f.key.Public().(ed25519.PublicKey))
	if err != nil || !rep.OK() {
		t.Fatalf("the report's bundle does not verify: %v %+v", err, rep.Problems)
	}
	rc, err := f.store.Get(t.Context(), res.Bundle, "report.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var ev struct {
		Raw struct {
			Message string `json:"message"`
			SHA256  string `json:"sha256"`
		} `json:"raw"`
	}
	if err := json.NewDecoder(rc).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if got, _ := base64.StdEncoding.DecodeString(ev.Raw.Message); !bytes.Equal(got, msg) || ev.Raw.SHA256 != res.SHA256 {
		t.Error("the sealed message is not the message, byte for byte")
	}

	// Without a snapshot the report is still kept, and says why it was
	// not matched; an empty message is refused.
	res, err = f.acts.SealReport(t.Context(), activities.ReportInput{CaseID: "offboard/E1001", EmployeeID: "E1001", Kind: activities.ReportLeak,
		By: "soc", At: cut, Message: msg, Name: "E1001-report-r-2"})
	if err != nil || res.Bundle == "" || res.SnapshotError == "" {
		t.Errorf("without a snapshot: %+v %v", res, err)
	}
	if _, err := f.acts.SealReport(t.Context(), activities.ReportInput{CaseID: "offboard/E1001", EmployeeID: "E1001", Kind: activities.ReportLeak,
		By: "soc", At: cut, Name: "E1001-report-r-3"}); err == nil {
		t.Error("an empty message was kept")
	}
}
