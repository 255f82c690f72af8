package indicators

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/netip"
	"net/textproto"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Extract's bounds.
const (
	// MaxInput is the most of a message Extract reads; the rest is
	// ignored.
	MaxInput = 10 << 20
	// MaxPerKind is the most indicators of one kind Extract returns (the
	// first found).
	MaxPerKind = 1000
	// maxDepth is how deeply MIME parts (and forwarded messages) nest
	// before Extract stops descending; maxParts is the most parts it
	// reads.
	maxDepth = 10
	maxParts = 1000
	// maxURL is the longest URL kept.
	maxURL = 2048
)

// ErrEmpty is Extract's error for input with nothing but white space.
var ErrEmpty = errors.New("indicators: empty message")

// Extract reads the indicators a message names; see the package comment
// for what counts. msg is a raw email message or plain text. The only
// error is ErrEmpty: a message with no indicators is not an error (its
// Indicators are Empty). No kind is nil, so each is a JSON array.
func Extract(msg []byte) (Indicators, error) { return ExtractNaming(msg, nil) }

const bom = "\xef\xbb\xbf"

// set is the indicators of one kind, in the order found, deduplicated.
type set struct {
	vals []string
	seen map[string]bool
	fold bool
}

func newSet(fold bool) *set { return &set{vals: []string{}, seen: map[string]bool{}, fold: fold} }

func (s *set) add(v string) {
	if v == "" || len(s.vals) >= MaxPerKind {
		return
	}
	k := v
	if s.fold {
		k = strings.ToLower(v)
	}
	if !s.seen[k] {
		s.seen[k] = true
		s.vals = append(s.vals, v)
	}
}

type extractor struct {
	emails, ips, urls, repos, files, logins *set
	wallets                                 []Wallet
	walletSeen                              map[string]bool
	// owners are the (lower-cased) owners of GitHub URLs and remotes, for
	// the bare owner/repo rule.
	owners map[string]bool
	// texts are the decoded texts to scan: the subject, then the bodies.
	texts     []string
	textBytes int
	parts     int
	dec       *mime.WordDecoder
}

func newExtractor() *extractor {
	return &extractor{
		emails: newSet(true), ips: newSet(false), urls: newSet(false),
		repos: newSet(true), files: newSet(false), logins: newSet(true),
		wallets: []Wallet{}, walletSeen: map[string]bool{}, owners: map[string]bool{},
		dec: &mime.WordDecoder{CharsetReader: charsetReader},
	}
}

func (x *extractor) result() Indicators {
	return Indicators{
		Emails: x.emails.vals, IPs: x.ips.vals, URLs: x.urls.vals, Repos: x.repos.vals,
		Files: x.files.vals, Wallets: x.wallets, GitHubLogins: x.logins.vals,
	}
}

func (x *extractor) addWallet(w Wallet) {
	if len(x.wallets) >= MaxPerKind || x.walletSeen[w.key()] {
		return
	}
	x.walletSeen[w.key()] = true
	x.wallets = append(x.wallets, w)
}

// addText queues a decoded text for scanning, within a budget of twice
// MaxInput (ISO-8859-1 text grows when written as UTF-8).
func (x *extractor) addText(s string) {
	if room := 2*MaxInput - x.textBytes; len(s) > room {
		s = s[:max(room, 0)]
	}
	if s != "" {
		x.textBytes += len(s)
		x.texts = append(x.texts, s)
	}
}

// knownHeaders are the fields whose presence makes input a message.
var knownHeaders = []string{"From", "To", "Cc", "Subject", "Date", "Message-Id", "Received",
	"Mime-Version", "Content-Type", "Reply-To", "Return-Path", "Sender"}

// message reads b as a message when it starts with a header block, else
// as text.
func (x *extractor) message(b []byte, depth int) {
	h, body, ok := readMessage(b)
	if !ok {
		x.addText(decodeCharset(b, ""))
		return
	}
	x.headers(h)
	x.entity(textproto.MIMEHeader(h), body, depth)
}

// readMessage parses b's header block, after a byte order mark, blank
// lines and an mbox "From " line, if it has one with a known field.
func readMessage(b []byte) (mail.Header, []byte, bool) {
	b = bytes.TrimPrefix(b, []byte(bom))
	for {
		switch {
		case bytes.HasPrefix(b, []byte("\r\n")):
			b = b[2:]
			continue
		case bytes.HasPrefix(b, []byte("\n")):
			b = b[1:]
			continue
		}
		break
	}
	if bytes.HasPrefix(b, []byte("From ")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, nil, false
		}
		b = b[i+1:]
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return nil, nil, false
	}
	known := false
	for _, k := range knownHeaders {
		if _, ok := m.Header[textproto.CanonicalMIMEHeaderKey(k)]; ok {
			known = true
			break
		}
	}
	if !known {
		return nil, nil, false
	}
	body, _ := io.ReadAll(m.Body) // a bytes.Reader: no error
	return m.Header, body, true
}

// headers reads the senders' addresses, the originating IP and the
// subject.
func (x *extractor) headers(h mail.Header) {
	p := mail.AddressParser{WordDecoder: x.dec}
	for _, k := range []string{"From", "Reply-To", "Return-Path"} {
		for _, v := range h[textproto.CanonicalMIMEHeaderKey(k)] {
			if list, err := p.ParseList(v); err == nil {
				for _, a := range list {
					x.email(a.Address)
				}
				continue
			}
			// Not RFC 5322: take what looks like an address.
			for _, m := range emailRE.FindAllStringIndex(v, -1) {
				x.email(v[m[0]:m[1]])
			}
		}
	}
	for _, v := range h[textproto.CanonicalMIMEHeaderKey("X-Originating-Ip")] {
		if a, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(v), "[]")); err == nil {
			x.ip(a)
		}
	}
	for _, v := range h["Subject"] {
		if d, err := x.dec.DecodeHeader(v); err == nil {
			v = d
		}
		x.addText(v)
	}
}

// entity reads one MIME entity (a message's body or a part).
func (x *extractor) entity(h textproto.MIMEHeader, body []byte, depth int) {
	x.parts++
	if depth > maxDepth || x.parts > maxParts {
		return
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt, params = "text/plain", nil
	}
	if name := x.partName(h, params); name != "" {
		x.file(baseName(name))
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if x.multipart(body, params["boundary"], depth) {
			return
		}
		// No parts: read it as text.
		x.addText(decodeCharset(body, ""))
	case mt == "message/rfc822" || mt == "message/global":
		x.message(decodeTransfer(h.Get("Content-Transfer-Encoding"), body), depth+1)
	case strings.HasPrefix(mt, "text/"):
		s := decodeCharset(decodeTransfer(h.Get("Content-Transfer-Encoding"), body), params["charset"])
		if mt == "text/html" {
			s = stripHTML(s)
		}
		x.addText(s)
	}
	// Other types (images, documents, archives) are not scanned.
}

// multipart reads the parts of a multipart body and reports whether it
// found any.
func (x *extractor) multipart(body []byte, boundary string, depth int) bool {
	if boundary == "" {
		return false
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	found := false
	for x.parts < maxParts {
		p, err := r.NextRawPart()
		if err != nil {
			break
		}
		found = true
		data, _ := io.ReadAll(p) // a truncated part is read as far as it goes
		x.entity(p.Header, data, depth+1)
	}
	return found
}

// partName is an entity's file name: Content-Disposition's filename, else
// Content-Type's name.
func (x *extractor) partName(h textproto.MIMEHeader, ctParams map[string]string) string {
	name := ""
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = dp["filename"]
	}
	if name == "" {
		name = ctParams["name"]
	}
	if d, err := x.dec.DecodeHeader(name); err == nil {
		name = d
	}
	return strings.TrimSpace(name)
}

// decodeTransfer undoes a Content-Transfer-Encoding; what cannot be
// decoded is dropped (a corrupt tail, say).
func decodeTransfer(cte string, b []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		return out
	case "base64":
		return decodeBase64(b)
	}
	return b
}

// decodeBase64 decodes base64 leniently: white space is skipped, padding
// ends a run (some mailers join padded runs), and the first other
// character not of the alphabet ends the data.
func decodeBase64(b []byte) []byte {
	var out, run []byte
	flush := func() {
		if len(run)%4 == 1 {
			run = run[:len(run)-1] // a lone last character encodes no byte
		}
		if len(run) > 0 {
			d := make([]byte, base64.RawStdEncoding.DecodedLen(len(run)))
			n, _ := base64.RawStdEncoding.Decode(d, run)
			out = append(out, d[:n]...)
			run = run[:0]
		}
	}
	for _, c := range b {
		switch {
		case c == '\r' || c == '\n' || c == ' ' || c == '\t':
		case c == '=':
			flush()
		case isAlnum(c) || c == '+' || c == '/':
			run = append(run, c)
		default:
			flush()
			return out
		}
	}
	flush()
	return out
}

func isLatin1(charset string) bool {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1",
		"windows-1252", "cp1252", "x-cp1252":
		return true
	}
	return false
}

// decodeCharset reads b as UTF-8 text: ISO-8859-1 (and Windows-1252, read
// as ISO-8859-1) is converted; any other charset is taken as UTF-8 when b
// is valid UTF-8, else as ISO-8859-1 (which keeps ASCII as it is).
func decodeCharset(b []byte, charset string) string {
	if !isLatin1(charset) && utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

func latin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// charsetReader serves mime.WordDecoder the charsets it does not know:
// ISO-8859-1's aliases are converted, anything else passes through.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if isLatin1(charset) {
		return strings.NewReader(latin1(b)), nil
	}
	return bytes.NewReader(b), nil
}

// inlineTags are the HTML elements whose tags are dropped without a
// break (so text split by <b> stays one word).
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "big": true, "cite": true,
	"code": true, "em": true, "font": true, "i": true, "kbd": true, "mark": true, "q": true,
	"s": true, "samp": true, "small": true, "span": true, "strike": true, "strong": true,
	"sub": true, "sup": true, "tt": true, "u": true, "var": true, "wbr": true,
}

var attrRE = regexp.MustCompile(`(?i)(?:^|\s)(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)

// stripHTML crudely turns HTML into text: comments and script and style
// elements go, tags go (block-level ones become line breaks), the values
// of href and src attributes stay as words, entities are decoded.
func stripHTML(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '<' || i+1 == len(s) || !(isASCIILetter(s[i+1]) || s[i+1] == '/' || s[i+1] == '!') {
			b.WriteByte(c)
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			b.WriteByte(' ')
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		tag := s[i+1 : i+end]
		i += end + 1
		name := strings.ToLower(strings.TrimPrefix(tag, "/"))
		if j := strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '/' }); j >= 0 {
			name = name[:j]
		}
		if (name == "script" || name == "style") && !strings.HasPrefix(tag, "/") {
			i = closeTag(s, i, name)
			b.WriteByte('\n')
			continue
		}
		for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
			b.WriteString(" " + m[1] + m[2] + m[3] + " ")
		}
		if !inlineTags[name] {
			b.WriteByte('\n')
		}
	}
	return html.UnescapeString(b.String())
}

// closeTag is the index after the </name> closing tag at or after i, or
// len(s).
func closeTag(s string, i int, name string) int {
	for {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return len(s)
		}
		i += j + 2
		if len(s)-i >= len(name) && strings.EqualFold(s[i:i+len(name)], name) {
			if k := strings.IndexByte(s[i:], '>'); k >= 0 {
				return i + k + 1
			}
			return len(s)
		}
	}
}

// containsFold reports whether s contains the lower-case ASCII sub,
// ignoring case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == sub[0] && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool       { return isASCIILetter(c) || isDigit(c) }

var (
	urlRE       = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'\x60\x00-\x1f\x7f]+`)
	bareGitHub  = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9./:@_-])((?:www\.)?github\.com/[A-Za-z0-9._/-]+)`)
	scpRemoteRE = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9._/-])git@github\.com:/?([A-Za-z0-9_-]+)/([A-Za-z0-9._-]+)`)
	sshRemoteRE = regexp.MustCompile(`(?i)\bssh://git@github\.com(?::[0-9]+)?/([A-Za-z0-9_-]+)/([A-Za-z0-9._-]+)`)
	emailRE     = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)
	ipv4RE      = regexp.MustCompile(`[0-9]{1,3}(?:\.[0-9]{1,3}){3}`)
	ipv6RE      = regexp.MustCompile(`[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*`)
	btcRE       = regexp.MustCompile(`\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b`)
	tronRE      = regexp.MustCompile(`\bT[1-9A-HJ-NP-Za-km-z]{33}\b`)
	bech32RE    = regexp.MustCompile(`\b(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87}\b`)
	ethRE       = regexp.MustCompile(`\b0[xX][0-9a-fA-F]{40}\b`)
	quotedRE    = regexp.MustCompile(`"([^"\r\n]{1,255})"|“([^”\r\n]{1,255})”`)
)

// scan reads the queued texts: first everything with a fixed shape (so
// the owners of GitHub URLs are known), then the loose tokens.
func (x *extractor) scan() {
	loose := make([]string, len(x.texts))
	for i, t := range x.texts {
		x.scanURLs(t)
		x.scanRemotes(t)
		x.scanEmails(t)
		x.scanIPs(t)
		x.scanWallets(t)
		loose[i] = x.scanQuoted(t)
	}
	for _, t := range loose {
		x.scanTokens(t)
	}
}

// scanQuoted adds the double-quoted file names of t, and returns t without
// them, so their words are not read again as tokens ("Customer List
// 2026.csv" is not also 2026.csv).
func (x *extractor) scanQuoted(t string) string {
	var b strings.Builder
	last := 0
	for _, m := range quotedRE.FindAllStringSubmatchIndex(t, -1) {
		var inner string
		if m[2] >= 0 {
			inner = t[m[2]:m[3]]
		} else {
			inner = t[m[4]:m[5]]
		}
		name := baseName(strings.TrimSpace(inner))
		if !fileName(name) {
			continue
		}
		x.file(name)
		b.WriteString(t[last:m[0]])
		b.WriteByte(' ')
		last = m[1]
	}
	if last == 0 {
		return t
	}
	b.WriteString(t[last:])
	return b.String()
}

// trimURL drops trailing punctuation, and a closing bracket the URL did
// not open.
func trimURL(u string) string {
	for u != "" {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?*'\"", c) >= 0:
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case c == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		case c == '}' && strings.Count(u, "{") < strings.Count(u, "}"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

func (x *extractor) scanURLs(t string) {
	if !strings.Contains(t, "://") && !containsFold(t, "github.com/") {
		return
	}
	for _, raw := range urlRE.FindAllString(t, -1) {
		raw = trimURL(raw)
		if len(raw) > maxURL {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			continue
		}
		x.urls.add(raw)
		host := strings.ToLower(u.Hostname())
		x.github(host, u.Path)
		if base := path.Base(u.Path); u.Path != "" && base != "/" {
			// Web pages and scripts are not files the person handled.
			if ext := strings.ToLower(path.Ext(base)); ext != ".php" && ext != ".js" {
				x.file(base)
			}
		}
	}
	for _, m := range bareGitHub.FindAllStringSubmatch(t, -1) {
		s := trimURL(m[1])
		i := strings.IndexByte(s, '/')
		x.github(strings.ToLower(s[:i]), s[i:])
	}
}

func (x *extractor) scanRemotes(t string) {
	if !strings.Contains(t, "@") {
		return
	}
	for _, re := range []*regexp.Regexp{scpRemoteRE, sshRemoteRE} {
		for _, m := range re.FindAllStringSubmatch(t, -1) {
			x.githubRepo(m[1], m[2])
		}
	}
}

// github reads a GitHub URL's host and path: a repository, or a profile's
// login.
func (x *extractor) github(host, p string) {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	switch host {
	case "github.com", "www.github.com":
		switch {
		case len(segs) >= 2:
			x.githubRepo(segs[0], segs[1])
		case len(segs) == 1 && validLogin(segs[0], true) && !githubReserved[strings.ToLower(segs[0])]:
			x.logins.add(segs[0])
		}
	case "api.github.com":
		switch {
		case len(segs) >= 3 && segs[0] == "repos":
			x.githubRepo(segs[1], segs[2])
		case len(segs) >= 2 && segs[0] == "users" && validLogin(segs[1], true):
			x.logins.add(segs[1])
		}
	case "raw.githubusercontent.com", "codeload.github.com":
		if len(segs) >= 2 {
			x.githubRepo(segs[0], segs[1])
		}
	}
}

// githubRepo adds owner/repo from a GitHub URL or remote.
func (x *extractor) githubRepo(owner, repo string) {
	if githubReserved[strings.ToLower(owner)] || !validLogin(owner, true) {
		return
	}
	repo = strings.TrimRight(strings.TrimSuffix(strings.TrimRight(repo, "."), ".git"), ".")
	if !validRepoName(repo) {
		return
	}
	x.owners[strings.ToLower(owner)] = true
	x.repos.add(owner + "/" + repo)
}

// githubReserved are github.com's first path segments that are GitHub's
// own pages, not accounts.
var githubReserved = map[string]bool{
	"about": true, "account": true, "apps": true, "blog": true, "business": true,
	"codespaces": true, "collections": true, "contact": true, "copilot": true,
	"customer-stories": true, "dashboard": true, "enterprise": true, "enterprises": true,
	"events": true, "explore": true, "features": true, "gist": true,
	"issues": true, "join": true, "login": true, "logout": true, "marketplace": true,
	"new": true, "notifications": true, "organizations": true, "orgs": true,
	"password_reset": true, "pricing": true, "pulls": true, "readme": true,
	"resources": true, "search": true, "security": true, "sessions": true,
	"settings": true, "signup": true, "site": true, "solutions": true, "sponsors": true,
	"stars": true, "team": true, "teams": true, "topics": true, "trending": true,
	"users": true, "watching": true,
}

var (
	loginRE    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9])*$`)
	emuLoginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9])*(?:_[A-Za-z0-9]+)?$`)
	repoNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// validLogin reports whether s is a GitHub login: letters, digits and
// single inner hyphens, at most 39 characters; emu also allows an
// Enterprise Managed User's "_shortcode" suffix.
func validLogin(s string, emu bool) bool {
	if emu {
		return len(s) <= 39+1+20 && emuLoginRE.MatchString(s) && len(strings.SplitN(s, "_", 2)[0]) <= 39
	}
	return len(s) <= 39 && loginRE.MatchString(s)
}

func validRepoName(s string) bool {
	return s != "." && s != ".." && repoNameRE.MatchString(s)
}

func (x *extractor) scanEmails(t string) {
	if !strings.Contains(t, "@") {
		return
	}
	for _, m := range emailRE.FindAllStringIndex(t, -1) {
		start, end := m[0], m[1]
		// "git@github.com:acme/api" is a remote; "user:pw@host" and
		// "//user@host" are a URL's user info.
		if end+1 < len(t) && t[end] == ':' && !unicode.IsSpace(rune(t[end+1])) {
			continue
		}
		if start > 0 && (t[start-1] == '/' || t[start-1] == ':' && !(start >= 7 && strings.EqualFold(t[start-7:start-1], "mailto"))) {
			continue
		}
		x.email(t[start:end])
	}
}

// email adds an email address that passes the checks, and the login of a
// GitHub noreply address.
func (x *extractor) email(a string) {
	a = strings.TrimLeft(a, ".")
	at := strings.LastIndexByte(a, '@')
	if at <= 0 {
		return
	}
	local, domain := a[:at], strings.ToLower(a[at+1:])
	if len(local) > 64 || len(domain) > 253 || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return
	}
	labels := strings.Split(domain, ".")
	tld := labels[len(labels)-1]
	if len(labels) < 2 || len(tld) < 2 {
		return
	}
	for i := 0; i < len(tld); i++ {
		if !isASCIILetter(tld[i]) {
			return
		}
	}
	x.emails.add(a)
	if domain == "users.noreply.github.com" {
		login := local
		if i := strings.IndexByte(login, '+'); i >= 0 {
			login = login[i+1:]
		}
		if validLogin(login, true) {
			x.logins.add(login)
		}
	}
}

func (x *extractor) scanIPs(t string) {
	for _, m := range ipv4RE.FindAllStringIndex(t, -1) {
		start, end := m[0], m[1]
		if start > 0 && (isAlnum(t[start-1]) || t[start-1] == '.') {
			continue
		}
		if end < len(t) && (isAlnum(t[end]) || t[end] == '.' && end+1 < len(t) && isDigit(t[end+1])) {
			continue
		}
		if a, err := netip.ParseAddr(t[start:end]); err == nil {
			x.ip(a)
		}
	}
	for _, m := range ipv6RE.FindAllStringIndex(t, -1) {
		start, end := m[0], m[1]
		if start > 0 && (isAlnum(t[start-1]) || t[start-1] == '.') || end < len(t) && isAlnum(t[end]) {
			continue
		}
		c := t[start:end]
		a, err := netip.ParseAddr(c)
		if err != nil {
			if a, err = netip.ParseAddr(strings.TrimRight(c, ":.")); err != nil {
				continue
			}
			c = strings.TrimRight(c, ":.")
		}
		if !a.Is4In6() && !plausibleIPv6(c) {
			continue
		}
		x.ip(a)
	}
}

// plausibleIPv6 rejects what parses as IPv6 but reads as something else:
// only digits in fewer than three groups (12::30).
func plausibleIPv6(s string) bool {
	if strings.ContainsAny(s, "abcdefABCDEF") {
		return true
	}
	groups := 0
	for _, g := range strings.Split(s, ":") {
		if g != "" {
			groups++
		}
	}
	return groups >= 3
}

// ip adds an address, IPv4-mapped IPv6 as IPv4, skipping the unspecified
// addresses and 255.x.x.x.
func (x *extractor) ip(a netip.Addr) {
	a = a.Unmap().WithZone("")
	if !a.IsValid() || a.IsUnspecified() || a.Is4() && a.As4()[0] == 255 {
		return
	}
	x.ips.add(a.String())
}

func (x *extractor) scanWallets(t string) {
	for _, re := range []*regexp.Regexp{btcRE, bech32RE, ethRE, tronRE} {
		for _, s := range re.FindAllString(t, -1) {
			if w, ok := ParseWallet(s); ok {
				x.addWallet(w)
			}
		}
	}
}

// isTokenSep splits text into tokens for the bare repo and file rules.
func isTokenSep(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(",;<>()[]{}\"'`|=“”‘’«»", r)
}

func (x *extractor) scanTokens(t string) {
	for _, tok := range strings.FieldsFunc(t, isTokenSep) {
		tok = strings.TrimLeft(tok, "*~:")
		tok = strings.TrimRight(tok, ".,:;!?*~")
		if tok == "" || strings.Contains(tok, "://") || strings.Contains(tok, "@") {
			continue
		}
		if i := strings.LastIndexByte(tok, '\\'); i >= 0 {
			x.file(tok[i+1:])
			continue
		}
		if strings.Count(tok, "/") == 1 {
			owner, repo, _ := strings.Cut(tok, "/")
			if fileName(repo) && !strings.HasSuffix(strings.ToLower(repo), ".git") {
				x.file(repo)
				continue
			}
			x.bareRepo(owner, repo)
			continue
		}
		x.file(tok[strings.LastIndexByte(tok, '/')+1:])
	}
}

// bareRepo adds an owner/repo token that passes the bare rule (see the
// package comment).
func (x *extractor) bareRepo(owner, repo string) {
	repo = strings.TrimSuffix(repo, ".git")
	if !validLogin(owner, false) || onlyOf(owner, "0123456789-") || !validRepoName(repo) || onlyOf(repo, "0123456789.") {
		return
	}
	if !strings.ContainsAny(repo, "-_.") && !x.owners[strings.ToLower(owner)] {
		return
	}
	x.repos.add(owner + "/" + repo)
}

func onlyOf(s, chars string) bool {
	for _, r := range s {
		if !strings.ContainsRune(chars, r) {
			return false
		}
	}
	return true
}

// baseName is what follows the last / or \ of s.
func baseName(s string) string {
	return s[strings.LastIndexAny(s, "/\\")+1:]
}

// file adds a file name that passes fileName.
func (x *extractor) file(name string) {
	if fileName(name) {
		x.files.add(name)
	}
}

// extensions are the file extensions (lower-case, without the dot) that
// make a token a file name: code, data, documents, keys, archives. A
// .tar.gz name counts by its .gz.
var extensions = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`
		go py js mjs cjs ts tsx jsx java kt kts scala groovy gradle rb php c h cc cpp cxx hpp
		cs rs swift sh bash zsh ps1 bat sql proto tf tfvars tfstate hcl ipynb r lua dart vue
		svelte ex exs erl clj
		csv tsv json jsonl ndjson yaml yml xml toml ini conf cfg properties parquet avro orc
		db sqlite sqlite3 mdb accdb bak dump log txt md
		pdf doc docx xls xlsx xlsm ppt pptx odt ods odp rtf
		pem crt cer der key p12 pfx jks keystore kdbx ovpn ppk pub asc gpg pgp env
		zip tar gz tgz bz2 xz 7z rar jar war apk ipa dmg iso`) {
		extensions[e] = true
	}
}

// secretFiles are file names without a known extension that hold
// secrets.
var secretFiles = map[string]bool{
	".env": true, "id_rsa": true, "id_dsa": true, "id_ecdsa": true, "id_ed25519": true,
	".npmrc": true, ".pypirc": true, ".netrc": true, ".pgpass": true,
	".git-credentials": true, ".htpasswd": true, ".dockercfg": true,
}

// notFiles are names with a known extension that are libraries, not
// files.
var notFiles = map[string]bool{
	"node.js": true, "vue.js": true, "next.js": true, "nuxt.js": true, "react.js": true,
	"angular.js": true, "express.js": true, "three.js": true, "d3.js": true,
	"chart.js": true, "ember.js": true, "backbone.js": true, "moment.js": true,
	"p5.js": true, "alpine.js": true, "day.js": true, "nest.js": true, "deno.js": true,
}

// fileName reports whether name is a file name: see the package comment.
func fileName(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	lower := strings.ToLower(name)
	if secretFiles[lower] || strings.HasPrefix(lower, ".env.") && len(lower) > 5 {
		return true
	}
	if notFiles[lower] || strings.HasPrefix(lower, "www.") {
		return false
	}
	dot := strings.LastIndexByte(lower, '.')
	if dot <= 0 || !extensions[lower[dot+1:]] {
		return false
	}
	stem := lower[:dot]
	if strings.IndexFunc(stem, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		return false
	}
	// One-letter extensions (main.c, util.h, plot.r) need a plain stem:
	// U.S.C is not a file.
	if len(lower)-dot-1 == 1 && (len(stem) < 2 || strings.Contains(stem, ".")) {
		return false
	}
	return true
}
