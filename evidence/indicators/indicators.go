// Package indicators reads the things a message names — a tip-off, a
// ransom or extortion note, a recruiter's or a vendor's email, a pasted
// chat — and checks them against a person's evidence events: did the
// person clone the repository the message names, download the file, sign
// in from the IP address?
//
// # Reading a message
//
// Extract reads a raw email message (RFC 5322, an .eml file) or plain
// text. Input that starts with a header block (after an optional byte
// order mark, blank lines and an mbox "From " line) holding at least one
// standard field (From, To, Subject, Date, Message-ID, Received,
// MIME-Version, Content-Type, Reply-To, Return-Path, Sender, Cc) is read
// as a message; anything else is scanned whole as text. Of a message it
// reads:
//
//   - the addresses of From, Reply-To and Return-Path (not To or Cc: those
//     are the company's own people), and the IP of X-Originating-IP (the
//     sender's client, as webmail records it); no other header is read;
//   - the Subject, decoding RFC 2047 encoded words;
//   - the body: multipart parts (nested, and forwarded message/rfc822
//     messages, which are read like the message itself), decoding
//     quoted-printable and base64 transfer encodings and the charsets
//     UTF-8, US-ASCII and ISO-8859-1 (Windows-1252 is read as ISO-8859-1;
//     text in an unknown charset is read as UTF-8 when it is valid UTF-8,
//     else as ISO-8859-1). text/plain and any other text/* part is
//     scanned as it is; text/html has its tags stripped (the href and src
//     attribute values are kept as text, so links count); other parts
//     (images, PDFs, archives) are not scanned, but an attachment's file
//     name counts as a file when it has a known extension.
//
// # What is extracted
//
//   - Emails: local@domain, the domain ending in an alphabetic top-level
//     domain of two letters or more; "git@github.com:owner/repo" is a
//     repository remote, not an email.
//   - IPs: IPv4 in dotted-quad form (no leading zeros) not inside a longer
//     run of dotted numbers (so version strings like 1.2.3.4.5 do not
//     count), and IPv6 that net/netip parses. The unspecified addresses,
//     255.x.x.x (netmasks, broadcast) and IPv6 that is only digits in
//     fewer than three groups (a time like 12::30) are skipped. IPv4-mapped
//     IPv6 is written as IPv4; all are in net/netip's canonical form.
//   - URLs: http:// and https:// URLs with a host, without trailing
//     punctuation (a closing bracket is kept when the URL opened it).
//   - Repos, as "owner/repo" (".git" dropped):
//     from github.com (and www., api.github.com/repos/,
//     raw.githubusercontent.com, codeload.github.com) URLs, with or
//     without the scheme, whose first path segment is not one of
//     GitHub's own pages (settings, orgs, features, ...);
//     from git@github.com:owner/repo remotes;
//     and from bare owner/repo tokens. A bare token counts only when it
//     has exactly one slash (so a/b/c/d paths and 11/20/2026 dates do
//     not), the owner is a valid GitHub login (letters, digits, single
//     inner hyphens, at most 39) that is not all digits and hyphens, the
//     repo name is GitHub's charset ([A-Za-z0-9._-], at most 100), not
//     only digits and dots (11/20, HTTP/1.1), not a file name with a
//     known extension, and either the repo name has a '-', '_' or '.' in
//     it (acme/payments-api, but not and/or, TCP/IP, Q3/Q4) or the owner
//     is the owner of a GitHub URL or remote elsewhere in the message.
//   - Files: the base name (after the last / or \) of a token, or of a
//     URL's path, or of a double-quoted string (Drive titles have spaces),
//     or an attachment's name, whose extension is one of the known code,
//     data, document, key and archive extensions (see extensions; a
//     .tar.gz name counts by its .gz), or which is a known secrets file
//     (.env, .env.*, id_rsa, .npmrc, ...). Library names like Node.js and
//     host names starting with www. are not files.
//   - Wallets: Bitcoin P2PKH and P2SH base58check addresses (1... and
//     3..., version byte 0x00 or 0x05, double-SHA256 checksum), Bitcoin
//     bech32/bech32m segwit addresses (bc1..., BIP-173 and BIP-350:
//     checksum, witness version and program length), Ethereum addresses
//     (0x and 40 hex digits; a mixed-case one must carry a valid EIP-55
//     checksum) and TRON addresses (T..., 34 characters, base58check with
//     version byte 0x41). An address whose checksum fails is not a wallet.
//   - GitHubLogins: the login of a github.com/<login> profile URL (or
//     api.github.com/users/<login>), and of a GitHub noreply email
//     ([id+]login@users.noreply.github.com). A repository's owner is not
//     taken as a login: it is as often an organisation.
//
// Extract bounds its work: it reads at most MaxInput bytes, keeps at most
// MaxPerKind indicators of each kind, and reads at most maxParts MIME
// parts nested at most maxDepth deep.
//
// # Matching
//
// MatchEvents matches the indicators against a person's events (see its
// comment for the rules) and says, for each indicator that matched, what
// the person did with it, how often, when, and from which risky network.
package indicators

import (
	"strings"
)

// Indicators are the things a message names.
type Indicators struct {
	Emails       []string `json:"emails"`
	IPs          []string `json:"ips"`
	URLs         []string `json:"urls"`
	Repos        []string `json:"repos"`
	Files        []string `json:"files"`
	Wallets      []Wallet `json:"wallets"`
	GitHubLogins []string `json:"githubLogins"`
}

// The chains of a Wallet.
const (
	ChainBitcoin  = "bitcoin"
	ChainEthereum = "ethereum"
	ChainTron     = "tron"
)

// Wallet is a cryptocurrency address whose checksum is valid.
type Wallet struct {
	// Chain is ChainBitcoin, ChainEthereum or ChainTron.
	Chain string `json:"chain"`
	// Address is as written, except that bech32 addresses are lower-cased.
	Address string `json:"address"`
}

// Empty reports whether there are no indicators at all.
func (i Indicators) Empty() bool {
	return len(i.Emails) == 0 && len(i.IPs) == 0 && len(i.URLs) == 0 && len(i.Repos) == 0 &&
		len(i.Files) == 0 && len(i.Wallets) == 0 && len(i.GitHubLogins) == 0
}

// Merge adds o's indicators to i's, each kind after i's own, dropping
// duplicates (within i too) and keeping the first spelling seen. Emails,
// GitHub logins, repos and Ethereum addresses compare case-insensitively
// (GitHub treats owner/repo case-insensitively); IPs, URLs, files and
// base58 addresses compare exactly. Merge does not apply MaxPerKind, and
// leaves no kind nil (so each is a JSON array).
func (i *Indicators) Merge(o Indicators) {
	i.Emails = mergeStrings(i.Emails, o.Emails, strings.ToLower)
	i.IPs = mergeStrings(i.IPs, o.IPs, nil)
	i.URLs = mergeStrings(i.URLs, o.URLs, nil)
	i.Repos = mergeStrings(i.Repos, o.Repos, strings.ToLower)
	i.Files = mergeStrings(i.Files, o.Files, nil)
	i.GitHubLogins = mergeStrings(i.GitHubLogins, o.GitHubLogins, strings.ToLower)

	ws := make([]Wallet, 0, len(i.Wallets)+len(o.Wallets))
	seen := map[string]bool{}
	for _, w := range append(append([]Wallet(nil), i.Wallets...), o.Wallets...) {
		if k := w.key(); !seen[k] {
			seen[k] = true
			ws = append(ws, w)
		}
	}
	i.Wallets = ws
}

// key identifies a wallet for deduplication.
func (w Wallet) key() string {
	if w.Chain == ChainEthereum {
		return w.Chain + ":" + strings.ToLower(w.Address)
	}
	return w.Chain + ":" + w.Address
}

func mergeStrings(a, b []string, fold func(string) string) []string {
	out := make([]string, 0, len(a)+len(b))
	seen := map[string]bool{}
	for _, list := range [][]string{a, b} {
		for _, s := range list {
			k := s
			if fold != nil {
				k = fold(s)
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, s)
			}
		}
	}
	return out
}
