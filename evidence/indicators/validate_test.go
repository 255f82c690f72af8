package indicators

import (
	"strings"
	"testing"
)

// Validate names each bad indicator a person gave, and takes good ones.
func TestValidate(t *testing.T) {
	good := Indicators{Emails: []string{"jt.dev+ops@proton.me"}, IPs: []string{"45.14.71.9", "2001:db8::1"},
		Wallets: []Wallet{{Chain: ChainBitcoin, Address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}}, GitHubLogins: []string{"jt-dev-99"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good indicators refused: %v", err)
	}
	if err := (Indicators{}).Validate(); err == nil || !strings.Contains(err.Error(), "no indicators") {
		t.Errorf("none: %v", err)
	}
	bad := Indicators{Emails: []string{"J <jt@proton.me>", "no-at"}, IPs: []string{"45.14.71"},
		Wallets:      []Wallet{{Chain: ChainBitcoin, Address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"}, {Chain: ChainTron, Address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}},
		GitHubLogins: []string{"-bad", "a--b"}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad indicators taken")
	}
	for _, want := range []string{`"J <jt@proton.me>"`, `"no-at"`, `"45.14.71"`, "mdp", "tron", `"-bad"`, `"a--b"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

// ExtractNaming finds the person's own repositories and files where the
// message names them, whole, and not inside longer names.
func TestExtractNaming(t *testing.T) {
	msg := []byte("Subject: =?UTF-8?Q?your_code?=\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"We have ACME/platform and payroll-2026.xlsx. Not acme/platformx=\r\n, nor xacme/platform.\r\n")
	got, err := ExtractNaming(msg, []string{"acme/platform", "payroll-2026.xlsx", "acme/billing", "ab"})
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqualFold(got.Repos, []string{"acme/platform"}) {
		t.Errorf("repos %q", got.Repos)
	}
	if !slicesEqualFold(got.Files, []string{"payroll-2026.xlsx"}) {
		t.Errorf("files %q", got.Files)
	}
	only, err := ExtractNaming([]byte("we have acme/platformtools and xacme/platform"), []string{"acme/platform"})
	if err != nil || len(only.Repos) != 0 {
		t.Errorf("a longer name matched: %q %v", only.Repos, err)
	}
	if _, err := ExtractNaming([]byte("  "), []string{"x"}); err != ErrEmpty {
		t.Errorf("empty: %v", err)
	}
}

func slicesEqualFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}
