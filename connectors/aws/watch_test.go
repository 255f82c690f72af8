package aws_test

import (
	"bytes"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/offboard/offboard/connectors"
	"github.com/offboard/offboard/connectors/aws"
)

// A key the cut deleted is no longer listed by IAM, so it is looked up
// (LookupEvents by AccessKeyId) only when the account carries it among its
// recorded credentials (connectors.AttrCredentials): the failed call is
// read as a failure, with the key as its credential and its source IP, and
// kept once though the lookup by the user's name finds it too.
func TestActivityOfARecordedKey(t *testing.T) {
	t.Parallel()
	f := setup(t, options{opts: []aws.Option{aws.WithLookupPace(time.Millisecond)}})
	a := f.resolve(t, "E1011")
	steps := f.plan(t, a)
	radia := f.scope(t, prod, "rperlman")
	keys := f.iamUser(t, prod, "rperlman").AccessKeys
	if len(keys) == 0 {
		t.Fatal("the demo's rperlman has no access key")
	}
	key := keys[0].ID
	from := f.clock.Now()
	f.clock.Add(time.Minute)
	for _, id := range []string{"aws.deactivate-access-keys/" + radia, "aws.delete-access-keys/" + radia} {
		if _, err := f.c.Run(t.Context(), a, step(t, steps, id)); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Add(time.Minute)
	resp, err := http.Post(f.ts.URL+"/_emulator/attempt", "application/json", bytes.NewReader([]byte(`{"credential":"`+key+`","ip":"45.14.71.9"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("attempt: %s", resp.Status)
	}
	to := f.clock.Now().Add(time.Minute)
	lookups := func() int {
		n := 0
		for _, p := range f.paths() {
			if p == "/cloudtrail/LookupEvents" {
				n++
			}
		}
		return n
	}
	attempts := func(a connectors.Account) (found, calls int) {
		t.Helper()
		before := lookups()
		evs, err := f.c.Activity(t.Context(), a, from, to)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Credential == key && e.SourceIP == "45.14.71.9" {
				if e.Outcome != "failure" {
					t.Errorf("a call with a deleted key read as %q: %+v", e.Outcome, e)
				}
				n++
			}
		}
		return n, lookups() - before
	}
	with := a
	with.Attributes = maps.Clone(a.Attributes)
	with.Attributes[connectors.AttrCredentials] = "not-a-key," + key
	if n, calls := attempts(with); n != 1 || calls != 2 {
		t.Fatalf("%d attempts with the recorded key found in %d lookups, want 1 in 2 (by name, by the key)", n, calls)
	}
	if _, calls := attempts(a); calls != 1 {
		t.Fatalf("%d lookups without recorded keys, want 1 (by name: the deleted key is not listed)", calls)
	}
}
