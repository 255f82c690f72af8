package connectors_test

import (
	"slices"
	"testing"

	"github.com/offboard/offboard/connectors"
)

// CredentialIDs finds the IDs in the records the connectors write, once
// each, and nothing in records without one.
func TestCredentialIDs(t *testing.T) {
	recs := []string{
		"deactivated key AKIAIOSFODNN7EXAMPLE",
		"key AKIAIOSFODNN7EXAMPLE was deleted meanwhile",
		`org=acme credential_id=4242 credential_type="personal access token" token_last_eight=abcd1234 fingerprint=SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8`,
		"org=acme pat_id=7 token_id=99 access_granted_at=2026-01-01",
		"client 0oa1b2c3d4e5f6g7h8 held grants or tokens",
		"status ACTIVE -> SUSPENDED",
		"signed out of every web and device session",
	}
	got := connectors.CredentialIDs(recs)
	want := []string{"AKIAIOSFODNN7EXAMPLE", "4242", "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8", "7", "99", "0oa1b2c3d4e5f6g7h8"}
	if !slices.Equal(got, want) {
		t.Fatalf("CredentialIDs = %q, want %q", got, want)
	}
	if got := connectors.CredentialIDs([]string{"status ACTIVE -> SUSPENDED", "AKIA-too-short"}); len(got) != 0 {
		t.Fatalf("IDs found where there are none: %q", got)
	}
}
