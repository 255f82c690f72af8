package indicators

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func extract(t *testing.T, msg string) Indicators {
	t.Helper()
	ind, err := Extract([]byte(msg))
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return ind
}

func TestExtractText(t *testing.T) {
	emails := func(i Indicators) []string { return i.Emails }
	ips := func(i Indicators) []string { return i.IPs }
	urls := func(i Indicators) []string { return i.URLs }
	repos := func(i Indicators) []string { return i.Repos }
	files := func(i Indicators) []string { return i.Files }
	logins := func(i Indicators) []string { return i.GitHubLogins }
	cases := []struct {
		name string
		in   string
		get  func(Indicators) []string
		want []string
	}{
		{"emails", "write to jane.doe@example.com or <Bob+x@Mail.Example.org>. Or jane.doe@EXAMPLE.com.",
			emails, []string{"jane.doe@example.com", "Bob+x@Mail.Example.org"}},
		{"mailto", `<a>mailto:ops@evil.example</a>`, emails, []string{"ops@evil.example"}},
		{"not emails", "user@localhost a@b.c cid:image001.png@01D9A1B2.C3D4E5F0 https://user:pw@host.example.com/ x@-bad.com",
			emails, []string{}},
		{"a remote is not an email", "git@github.com:acme/api.git", emails, []string{}},

		{"ips", "from 203.0.113.7, then 2001:DB8::1 and ::ffff:198.51.100.2; fe80::1%eth0 (10.0.0.1/24)",
			ips, []string{"203.0.113.7", "198.51.100.2", "10.0.0.1", "2001:db8::1", "fe80::1"}},
		{"not ips", "version 1.2.3.4.5, v10.0.0.1, 999.1.1.1, 01.02.03.04, 0.0.0.0, 255.255.255.0, at 12:30:45, 12::30, 00:1a:2b:3c:4d:5e, ::, 2026.11.20.1x",
			ips, []string{}},

		{"urls", "see https://example.com/a?b=c). And (https://en.wikipedia.org/wiki/Foo_(bar)), HTTP://EXAMPLE.ORG/x!",
			urls, []string{"https://example.com/a?b=c", "https://en.wikipedia.org/wiki/Foo_(bar)", "HTTP://EXAMPLE.ORG/x"}},
		{"not urls", "ftp://example.com/x http:// https:/// mailto:a@b.example", urls, []string{}},

		{"repos",
			"https://github.com/acme/payments-api/pull/12 github.com/Acme/infra.git, git@github.com:acme/web.git " +
				"ssh://git@github.com/acme/ops-tools.git and acme/billing-svc, `acme/api` but not other/api",
			repos, []string{"acme/payments-api", "Acme/infra", "acme/web", "acme/ops-tools", "acme/billing-svc", "acme/api"}},
		{"not repos",
			"on 11/20 and/or 11/20/2026 TCP/IP HTTP/1.1 Q3/Q4 a/b/c/d src/main.go github.com/settings/tokens 2026-11/payments-api docs/README ./my-dir",
			repos, []string{}},
		{"repo case-insensitive dedupe", "acme/payments-api ACME/Payments-API", repos, []string{"acme/payments-api"}},
		{"api and raw urls", "https://api.github.com/repos/acme/vault-sync/tarball https://raw.githubusercontent.com/acme/deploy-keys/main/id_rsa",
			repos, []string{"acme/vault-sync", "acme/deploy-keys"}},

		{"files",
			`attached Q3-forecast.xlsx, src/main.go, C:\Users\jd\secrets.env, .env, config/.env.production, backup.tar.gz and "Customer List 2026.csv"`,
			files, []string{"Customer List 2026.csv", "Q3-forecast.xlsx", "main.go", "secrets.env", ".env", ".env.production", "backup.tar.gz"}},
		{"files in urls", "https://acme-backups.s3.amazonaws.com/finance/payroll.csv https://example.com/index.php https://cdn.example.com/app.js",
			files, []string{"payroll.csv"}},
		{"not files", "Node.js and Vue.js, www.example.sh, e.g. U.S.C 3.14 file. .pdf notes.txtx image.png", files, []string{}},

		{"logins", "https://github.com/octocat and 12345+jdoe@users.noreply.github.com, https://github.com/features https://github.com/acme/api",
			logins, []string{"octocat", "jdoe"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.get(extract(t, c.in))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestExtractWallets(t *testing.T) {
	msg := `Pay 0.5 BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 or 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy
(segwit: bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq), USDT on Ethereum 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed
or TRON TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL.
Typos that are not wallets: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp
0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeM
A transaction hash is not an address: 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed5aaeb6053f3e94c9b9a09f33`
	got := extract(t, msg).Wallets
	want := []Wallet{
		{ChainBitcoin, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"},
		{ChainBitcoin, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"},
		{ChainBitcoin, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"},
		{ChainEthereum, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
		{ChainTron, "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("wallets = %+v\nwant %+v", got, want)
	}
}

// A multipart/mixed message: a multipart/alternative (quoted-printable
// text and HTML), a forwarded message, a Latin-1 text part and two
// attachments, one of which is not scanned.
const multipartEML = "From: =?UTF-8?B?Sm9obiBEw7Zl?= <attacker@evil.example>\r\n" +
	"Reply-To: \"Payments\" <reply@evil.example>\r\n" +
	"Return-Path: <bounce@evil.example>\r\n" +
	"To: security@acme.example\r\n" +
	"Subject: =?ISO-8859-1?Q?Re:_acme/ledger-core_r=E9sum=E9?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"This preamble is not read: 192.0.2.200\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=\"inner\"\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"We have your code: https://github.com/acme/payments-api/tree/main?x=3D1 and the k=\r\n" +
	"eys from 203.0.113.=\r\n" +
	"45. Pay 1BvBMSEYstWetqTFn5Au4m4GFg7xJaN=\r\n" +
	"VN2 within 48h.\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"<html><head><style>.x{background:url(https://tracker.example/p.png)}</style></head>=\r\n" +
	"<body><p>Proof: <a href=3D\"https://github.com/acme/secret-sauce\">click</a>, =\r\n" +
	"<b>acme</b>/<i>web-admin</i> &amp; <script>var ip=3D\"10.66.66.66\"</script>=\r\n" +
	"customers&#46;sql</p></body></html>\r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Also \"Pr=E4sentation Q4.pptx\".\r\n" +
	"--outer\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"From: Insider <jdoe.personal@gmail.example>\r\n" +
	"Subject: stuff\r\n" +
	"\r\n" +
	"sent from 198.51.100.23\r\n" +
	"--outer\r\n" +
	"Content-Type: application/octet-stream; name=\"dump.sql\"\r\n" +
	"Content-Disposition: attachment; filename=\"dump.sql\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"MTAuOTkuOTkuOTkgYWNtZS9oaWRkZW4tcmVwbw==\r\n" + // "10.99.99.99 acme/hidden-repo"
	"--outer\r\n" +
	"Content-Type: image/png; name=\"image001.png\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"iVBORw0KGgo=\r\n" +
	"--outer--\r\n" +
	"Epilogue, not read: 192.0.2.201\r\n"

func TestExtractMultipartQuotedPrintable(t *testing.T) {
	got := extract(t, multipartEML)
	want := Indicators{
		// The senders (not To), then the body's addresses in order.
		Emails: []string{"attacker@evil.example", "reply@evil.example", "bounce@evil.example", "jdoe.personal@gmail.example"},
		// Soft line breaks rejoin 203.0.113.45; the script's and the
		// unread parts' addresses are not there.
		IPs:  []string{"203.0.113.45", "198.51.100.23"},
		URLs: []string{"https://github.com/acme/payments-api/tree/main?x=1", "https://github.com/acme/secret-sauce"},
		// Subject first; acme/web-admin is split by tags; the attachment's
		// content is not read (acme/hidden-repo).
		Repos: []string{"acme/payments-api", "acme/secret-sauce", "acme/ledger-core", "acme/web-admin"},
		// The attachment's name (read with the parts), the Latin-1 title
		// decoded, a name whose dot is an entity.
		Files:        []string{"dump.sql", "Präsentation Q4.pptx", "customers.sql"},
		Wallets:      []Wallet{{ChainBitcoin, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}},
		GitHubLogins: []string{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestExtractBase64Body(t *testing.T) {
	body := "Le dépôt acme/crypto-wallet est à nous. Envoyez à TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL depuis 2001:db8:85a3::8a2e:370:7334."
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	var wrapped strings.Builder
	for len(enc) > 76 {
		wrapped.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	wrapped.WriteString(enc + "\n")
	msg := "From: x@evil.example\nSubject: hello\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" + wrapped.String()
	got := extract(t, msg)
	if want := []string{"acme/crypto-wallet"}; !reflect.DeepEqual(got.Repos, want) {
		t.Errorf("repos = %q, want %q", got.Repos, want)
	}
	if want := []Wallet{{ChainTron, "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"}}; !reflect.DeepEqual(got.Wallets, want) {
		t.Errorf("wallets = %+v, want %+v", got.Wallets, want)
	}
	if want := []string{"2001:db8:85a3::8a2e:370:7334"}; !reflect.DeepEqual(got.IPs, want) {
		t.Errorf("ips = %q, want %q", got.IPs, want)
	}
	if want := []string{"x@evil.example"}; !reflect.DeepEqual(got.Emails, want) {
		t.Errorf("emails = %q, want %q", got.Emails, want)
	}
}

func TestExtractNoIndicators(t *testing.T) {
	for _, msg := range []string{
		"Hi team, see you on 11/20 at 10:30. Thanks and/or regards!",
		"Subject: hello\nDate: Fri, 20 Nov 2026 10:00:00 +0000\n\nnothing to see at 12:30:45 on 2026-11-20 (v1.2.3.4.5).\n",
	} {
		got := extract(t, msg)
		if !got.Empty() {
			t.Errorf("Extract(%q) = %+v, want no indicators", msg, got)
		}
		if got.Emails == nil || got.Wallets == nil || got.GitHubLogins == nil {
			t.Errorf("Extract(%q): a kind is nil, want empty arrays", msg)
		}
	}
}

func TestExtractEmpty(t *testing.T) {
	for _, msg := range [][]byte{nil, {}, []byte(" \r\n\t "), []byte(bom + "\n")} {
		if _, err := Extract(msg); !errors.Is(err, ErrEmpty) {
			t.Errorf("Extract(%q) error = %v, want ErrEmpty", msg, err)
		}
	}
}

// Text whose first line looks like a header field but is not one is read
// whole, not as a message (whose body would start after a blank line).
func TestExtractPlainTextWithColon(t *testing.T) {
	got := extract(t, "Note: the repo is acme/payments-api\nFrom what I saw, 203.0.113.9 was used.\n\nMore: jane@evil.example\n")
	if want := []string{"acme/payments-api"}; !reflect.DeepEqual(got.Repos, want) {
		t.Errorf("repos = %q, want %q", got.Repos, want)
	}
	if want := []string{"203.0.113.9"}; !reflect.DeepEqual(got.IPs, want) {
		t.Errorf("ips = %q, want %q", got.IPs, want)
	}
	if want := []string{"jane@evil.example"}; !reflect.DeepEqual(got.Emails, want) {
		t.Errorf("emails = %q, want %q", got.Emails, want)
	}
}

// A message's To and Cc are the company's own people, not indicators;
// its header lines other than the senders' are not scanned either.
func TestExtractHeadersOnlySenders(t *testing.T) {
	msg := "From \"x\" Fri Nov 20 10:00:00 2026\n" + // mbox separator
		"Received: from mail.example (mail.example [192.0.2.9])\n" +
		"From: Mallory <mallory@evil.example>\n" +
		"To: jane@acme.example\nCc: bob@acme.example\n" +
		"X-Originating-IP: [203.0.113.77]\n" +
		"\n" +
		"body\n"
	got := extract(t, msg)
	if want := []string{"mallory@evil.example"}; !reflect.DeepEqual(got.Emails, want) {
		t.Errorf("emails = %q, want %q", got.Emails, want)
	}
	if want := []string{"203.0.113.77"}; !reflect.DeepEqual(got.IPs, want) {
		t.Errorf("ips = %q, want %q (X-Originating-IP only)", got.IPs, want)
	}
}

func TestExtractHTML(t *testing.T) {
	msg := "Content-Type: text/html\n\n" +
		"<!-- 10.1.1.1 in a comment --><style>p{color:red} 10.2.2.2</style><SCRIPT>var a='10.3.3.3'</SCRIPT>" +
		"<p>Download <a href='https://example.com/get?a=1&amp;b=2'>here</a></p><img src=https://cdn.example.com/x/leak.zip>" +
		"<div>203.0.113.1</div><div>203.0.113.2</div> 1 &lt; 2 &gt; 0"
	got := extract(t, msg)
	if want := []string{"https://example.com/get?a=1&b=2", "https://cdn.example.com/x/leak.zip"}; !reflect.DeepEqual(got.URLs, want) {
		t.Errorf("urls = %q, want %q", got.URLs, want)
	}
	if want := []string{"203.0.113.1", "203.0.113.2"}; !reflect.DeepEqual(got.IPs, want) {
		t.Errorf("ips = %q, want %q (block tags separate the addresses; comments, styles and scripts go)", got.IPs, want)
	}
	if want := []string{"leak.zip"}; !reflect.DeepEqual(got.Files, want) {
		t.Errorf("files = %q, want %q", got.Files, want)
	}
}

func TestExtractBounds(t *testing.T) {
	var b strings.Builder
	for i := 0; i < MaxPerKind+200; i++ {
		fmt.Fprintf(&b, "10.%d.%d.1\n", i/250, i%250+1)
	}
	got := extract(t, b.String())
	if len(got.IPs) != MaxPerKind {
		t.Fatalf("%d IPs, want MaxPerKind (%d)", len(got.IPs), MaxPerKind)
	}
	if got.IPs[0] != "10.0.1.1" || got.IPs[MaxPerKind-1] != "10.3.250.1" {
		t.Errorf("IPs run %s to %s, want the first %d found (10.0.1.1 to 10.3.250.1)", got.IPs[0], got.IPs[MaxPerKind-1], MaxPerKind)
	}

	// Only the first MaxInput bytes are read.
	head, in, past := "203.0.113.1 ", " 203.0.113.2 ", "203.0.113.3"
	msg := append([]byte(head), bytes.Repeat([]byte("x"), MaxInput-len(head)-len(in))...)
	msg = append(msg, in+past...)
	got2, err := Extract(msg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"203.0.113.1", "203.0.113.2"}; !reflect.DeepEqual(got2.IPs, want) {
		t.Errorf("ips = %q, want %q (the third is past MaxInput)", got2.IPs, want)
	}
}

// Deeply nested multiparts stop at maxDepth rather than recursing on.
func TestExtractDepth(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b0\n\n")
	n := maxDepth + 5
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	fmt.Fprintf(&b, "--b%d\nContent-Type: text/plain\n\n203.0.113.99\n", n)
	for i := n; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	if got := extract(t, b.String()); len(got.IPs) != 0 {
		t.Errorf("ips = %q: read a part nested deeper than maxDepth", got.IPs)
	}
	// The same part at a shallow depth is read.
	shallow := "Content-Type: multipart/mixed; boundary=b0\n\n--b0\nContent-Type: text/plain\n\n203.0.113.99\n--b0--\n"
	if got := extract(t, shallow); !reflect.DeepEqual(got.IPs, []string{"203.0.113.99"}) {
		t.Errorf("ips = %q, want [203.0.113.99]", got.IPs)
	}
}

// Broken input is read as far as it goes, never panics and is never an
// error.
func TestExtractBroken(t *testing.T) {
	cut := multipartEML[:strings.Index(multipartEML, "VN2 within")] // mid-part, no closing boundary
	for _, msg := range []string{
		cut,
		"Content-Type: multipart/mixed; boundary=zz\n\nno parts at all: 203.0.113.8\n",
		"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nMjAzLjAuMTEzLjg=!!!garbage",
		"Content-Type: text/html\n\n203.0.113.8 <!-- unterminated",
		"Content-Type: text/html\n\n203.0.113.8 <",
		"Content-Type: text/html\n\n203.0.113.8 <script>never closed",
		"Content-Type: ;;;\n\n203.0.113.8",
		"From: <<<>>>\n\n203.0.113.8",
	} {
		got, err := Extract([]byte(msg))
		if err != nil {
			t.Errorf("Extract(%q): %v", msg, err)
			continue
		}
		want := []string{"203.0.113.8"}
		if msg == cut {
			want = []string{"203.0.113.45"}
		}
		if !reflect.DeepEqual(got.IPs, want) {
			t.Errorf("Extract(%q) IPs = %q, want %q", msg, got.IPs, want)
		}
	}
}
