package connectors

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"Not found: Resource not found: ada.lovelace@example.com (User)": "Not found: Resource not found: [redacted] (User)",
		"user <a+b@x.io>, c@d.org failed":                                "user <[redacted]>, [redacted] failed",
		"no address here":                                                "no address here",
	} {
		if got := Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKindForStatus(t *testing.T) {
	for status, want := range map[int]Kind{400: InvalidInput, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound, 409: Conflict, 410: NotFound, 422: InvalidInput, 429: RateLimited, 500: Unavailable, 503: Unavailable} {
		if got := KindForStatus(status); got != want {
			t.Errorf("KindForStatus(%d) = %s, want %s", status, got, want)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Kind: RateLimited, System: "okta", Op: "suspend user", Status: 429, RetryAfter: 3 * time.Second, Msg: "too many"}
	if got, want := e.Error(), "okta: suspend user: RateLimited (HTTP 429): too many (retry after 3s)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("run: %w", e)
	if KindOf(wrapped) != RateLimited || IsNotFound(wrapped) || KindOf(fmt.Errorf("plain")) != "" {
		t.Error("KindOf does not see through wrapping")
	}
}

func TestWithAccount(t *testing.T) {
	s := Subject{EmployeeID: "E1", Attributes: map[string]string{"a": "1"}}
	got := s.WithAccount(Account{Attributes: map[string]string{"email": "x@example.com", "githubUsername": "x"}})
	if got.Email != "x@example.com" || got.Attributes["a"] != "1" || got.Attributes["githubUsername"] != "x" {
		t.Fatalf("WithAccount = %+v", got)
	}
	if _, leaked := s.Attributes["githubUsername"]; leaked {
		t.Fatal("WithAccount changed the original subject's attributes")
	}
	given := Subject{Email: "given@example.com"}.WithAccount(Account{Attributes: map[string]string{"email": "idp@example.com"}})
	if given.Email != "given@example.com" {
		t.Fatalf("an email given by HR was replaced: %s", given.Email)
	}
}

func TestOutcomeHelpers(t *testing.T) {
	if o, err := Already("r"); err != nil || o.Result != ResultAlready || strings.Join(o.Records, "") != "r" {
		t.Fatalf("Already = %+v %v", o, err)
	}
	if o, _ := Done(); o.Result != ResultDone {
		t.Fatalf("Done = %+v", o)
	}
	if Plural(1, "group", "groups") != "1 group" || Plural(0, "group", "groups") != "0 groups" {
		t.Fatal("Plural")
	}
}
