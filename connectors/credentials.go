package connectors

import (
	"regexp"
	"slices"
)

// credentialPatterns find the credential IDs in steps' records: AWS
// access key IDs, GitHub credential, token and request IDs, SSH key
// fingerprints, OAuth client IDs.
var credentialPatterns = []*regexp.Regexp{
	regexp.MustCompile(`\b((?:AKIA|ASIA)[A-Z0-9]{16})\b`),
	regexp.MustCompile(`\b(?:credential_id|token_id|pat_id|key_id)=(\d+)\b`),
	regexp.MustCompile(`\b(SHA256:[A-Za-z0-9+/]{43})`),
	regexp.MustCompile(`\bfingerprint=([^\s"]+)`),
	regexp.MustCompile(`\bclient ([A-Za-z0-9_-]{8,})\b`),
}

// CredentialIDs returns the credential IDs named in records, once each, in
// the order first named.
func CredentialIDs(records []string) []string {
	var out []string
	for _, r := range records {
		for _, re := range credentialPatterns {
			for _, m := range re.FindAllStringSubmatch(r, -1) {
				if !slices.Contains(out, m[1]) {
					out = append(out, m[1])
				}
			}
		}
	}
	return out
}
