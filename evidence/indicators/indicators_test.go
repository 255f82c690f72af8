package indicators

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	a := Indicators{
		Emails:       []string{"Jane@Evil.example", "bob@x.example", "jane@evil.example"},
		IPs:          []string{"203.0.113.1"},
		Repos:        []string{"acme/api"},
		Files:        []string{"a.go"},
		Wallets:      []Wallet{{ChainEthereum, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}},
		GitHubLogins: []string{"OctoCat"},
	}
	b := Indicators{
		Emails:       []string{"carol@x.example", "BOB@X.EXAMPLE"},
		IPs:          []string{"203.0.113.2", "203.0.113.1"},
		URLs:         []string{"https://x.example/A", "https://x.example/a"},
		Repos:        []string{"ACME/API", "acme/web"},
		Files:        []string{"A.go", "a.go"},
		Wallets:      []Wallet{{ChainEthereum, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}, {ChainTron, "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"}},
		GitHubLogins: []string{"octocat", "hubot"},
	}
	a.Merge(b)
	want := Indicators{
		Emails:       []string{"Jane@Evil.example", "bob@x.example", "carol@x.example"},
		IPs:          []string{"203.0.113.1", "203.0.113.2"},
		URLs:         []string{"https://x.example/A", "https://x.example/a"},
		Repos:        []string{"acme/api", "acme/web"},
		Files:        []string{"a.go", "A.go"},
		Wallets:      []Wallet{{ChainEthereum, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, {ChainTron, "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"}},
		GitHubLogins: []string{"OctoCat", "hubot"},
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("merged = %+v\nwant     %+v", a, want)
	}
}

func TestEmpty(t *testing.T) {
	if !(Indicators{}).Empty() {
		t.Error("zero Indicators not Empty")
	}
	one := []Indicators{
		{Emails: []string{"a@b.example"}}, {IPs: []string{"203.0.113.1"}}, {URLs: []string{"https://x.example"}},
		{Repos: []string{"a/b-c"}}, {Files: []string{"a.go"}}, {Wallets: []Wallet{{ChainTron, "T"}}},
		{GitHubLogins: []string{"octocat"}},
	}
	for _, i := range one {
		if i.Empty() {
			t.Errorf("%+v is Empty", i)
		}
	}
}

func TestJSON(t *testing.T) {
	ind, err := Extract([]byte("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed https://github.com/octocat"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ind)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"emails":[],"ips":[],"urls":["https://github.com/octocat"],"repos":[],"files":[],` +
		`"wallets":[{"chain":"ethereum","address":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}],"githubLogins":["octocat"]}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	m, err := json.Marshal(Match{Indicator: "x", Kind: KindIP, Days: []string{"2026-11-20"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"indicator":`, `"kind":`, `"events":`, `"first":`, `"last":`, `"days":`, `"summary":`} {
		if !strings.Contains(string(m), k) {
			t.Errorf("Match JSON %s has no %s", m, k)
		}
	}
}
