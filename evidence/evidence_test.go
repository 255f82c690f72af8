package evidence

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const bundleID = "case-123-20260301"

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func testInfo() ManifestInfo {
	return ManifestInfo{
		CaseID:           "case-123",
		EmployeeID:       "emp-42",
		Window:           Window{From: t0.Add(-30 * 24 * time.Hour), To: t0},
		CollectorVersion: "offboard test",
		CreatedAt:        t0.Add(time.Hour),
	}
}

// testSources is three sources: okta out of order, github with two events
// at the same instant, gworkspace incomplete.
func testSources() []Source {
	return []Source{
		{System: "okta", Events: []Event{
			{Time: t0.Add(-time.Minute), Actor: "00u1", Action: "user.session.start", SourceIP: "198.51.100.7", Outcome: "success", Raw: json.RawMessage(`{"uuid":"b","eventType":"user.session.start"}`)},
			{Time: t0.Add(-time.Hour), Actor: "00u1", Action: "user.authentication.sso", Target: "Salesforce", Raw: json.RawMessage(`{"uuid":"a"}`)},
			{Time: t0.Add(-2 * time.Minute), System: "okta", Actor: "00u1", Action: "app.oauth2.token.grant", Credential: "tok-1", Raw: json.RawMessage(`{"uuid":"c","n":12345678901234567890}`)},
		}},
		{System: "github", Events: []Event{
			{Time: t0.Add(-time.Hour), Actor: "alice", Action: "git.clone", Target: "acme/secret", Raw: json.RawMessage(`{"n":1}`)},
			{Time: t0.Add(-time.Hour), Actor: "alice", Action: "repo.download_zip", Target: "acme/secret", Raw: json.RawMessage(`{"n":2}`)},
		}},
		{System: "gworkspace", Incomplete: "Reports API: 503 after 5 attempts; Drive events after 08:00 missing", Events: []Event{
			{Time: t0.Add(-3 * time.Hour), Actor: "alice@example.com", Action: "download", Target: "Q3 plan", Raw: json.RawMessage(`{"id":{"time":"x"}}`)},
		}},
	}
}

// sealed seals testSources into a Dir under t.TempDir.
func sealed(t *testing.T) (*Dir, Sealed, ed25519.PrivateKey) {
	t.Helper()
	d := NewDir(filepath.Join(t.TempDir(), "evidence"))
	key := testKey(1)
	s, err := Seal(context.Background(), d, bundleID, testInfo(), testSources(), key)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return d, s, key
}

func bundlePath(d *Dir, name string) string { return filepath.Join(d.Root(), bundleID, name) }

// overwrite changes a sealed file behind the store's back.
func overwrite(t *testing.T, d *Dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(bundlePath(d, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// resign writes m as the bundle's manifest, signed by key.
func resign(t *testing.T, d *Dir, m Manifest, key ed25519.PrivateKey) {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	overwrite(t, d, ManifestFile, b)
	overwrite(t, d, SignatureFile, []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(key, b))+"\n"))
}

// wantProblem fails unless err is a joined error one of whose Problems is
// want, and every Problem names one of files.
func wantProblem(t *testing.T, r Report, err error, want string, files ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify passed; want %q", want)
	}
	if r.OK() {
		t.Errorf("Report.OK() with error %v", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Verify error:\n%v\nwant it to contain %q", err, want)
	}
	var p Problem
	if !errors.As(err, &p) {
		t.Errorf("error %v is not a Problem", err)
	}
	for _, p := range r.Problems {
		if !slices.Contains(files, p.File) {
			t.Errorf("unexpected problem %v (want only %v)", p, files)
		}
	}
}

func TestSealAndVerify(t *testing.T) {
	ctx := context.Background()
	d, s, key := sealed(t)

	names, err := d.List(ctx, bundleID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"github.jsonl", "gworkspace.jsonl", "manifest.json", "manifest.sig", "okta.jsonl", "public.key"}; !slices.Equal(names, want) {
		t.Errorf("bundle files %v, want %v", names, want)
	}
	for _, name := range names {
		fi, err := os.Stat(bundlePath(d, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(filepath.Join(d.Root(), bundleID)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("bundle dir: %v %v, want 0700", fi.Mode(), err)
	}

	m := s.Manifest
	if m.Format != Format || m.CaseID != "case-123" || m.EmployeeID != "emp-42" || !m.CreatedAt.Equal(t0.Add(time.Hour)) || m.KeyID != KeyID(key.Public().(ed25519.PublicKey)) {
		t.Errorf("manifest header %+v", m)
	}
	if want := map[string]int{"okta": 3, "github": 2, "gworkspace": 1}; fmt.Sprint(s.Counts) != fmt.Sprint(want) {
		t.Errorf("Counts %v, want %v", s.Counts, want)
	}
	if len(m.Incomplete) != 1 || m.Incomplete[0].System != "gworkspace" || !strings.Contains(m.Incomplete[0].Reason, "503") {
		t.Errorf("Incomplete %+v", m.Incomplete)
	}
	if len(m.Files) != 3 || m.Files[0].Name != "okta.jsonl" || m.Files[1].Name != "github.jsonl" || m.Files[2].Name != "gworkspace.jsonl" {
		t.Fatalf("Files %+v", m.Files)
	}
	okta := m.Files[0]
	if okta.Events != 3 || !okta.First.Equal(t0.Add(-time.Hour)) || !okta.Last.Equal(t0.Add(-time.Minute)) {
		t.Errorf("okta entry %+v", okta)
	}
	if dg, err := m.Digest(); err != nil || dg != s.Digest {
		t.Errorf("Manifest.Digest %s %v, Sealed.Digest %s", dg, err, s.Digest)
	}
	if m.Head() != m.Files[2].Chain || len(m.Head()) != 64 {
		t.Errorf("Head %q", m.Head())
	}

	// Sorted by time, same-time events in their given order; System filled in.
	var gh []Event
	for _, line := range readLines(t, bundlePath(d, "github.jsonl")) {
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		gh = append(gh, e)
	}
	if len(gh) != 2 || gh[0].Action != "git.clone" || gh[1].Action != "repo.download_zip" || gh[0].System != "github" {
		t.Errorf("github.jsonl events %+v", gh)
	}
	var oktaActions []string
	for _, line := range readLines(t, bundlePath(d, "okta.jsonl")) {
		var e Event
		json.Unmarshal(line, &e)
		oktaActions = append(oktaActions, e.Action)
	}
	if want := []string{"user.authentication.sso", "app.oauth2.token.grant", "user.session.start"}; !slices.Equal(oktaActions, want) {
		t.Errorf("okta.jsonl order %v, want %v", oktaActions, want)
	}

	r, err := Verify(ctx, d, bundleID, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !r.OK() || !r.SignatureOK || !r.ChainOK || !r.TrustedKey || r.Digest != s.Digest || len(r.Files) != 3 || len(r.Extra) != 0 || r.Manifest.CaseID != "case-123" {
		t.Errorf("Report %+v", r)
	}
	for _, f := range r.Files {
		if !f.OK {
			t.Errorf("file %+v not OK", f)
		}
	}

	// Without a trusted key: the bundle's own, and the Report says so.
	r, err = Verify(ctx, d, bundleID, nil)
	if err != nil || r.TrustedKey || !r.SignatureOK || r.KeyID != m.KeyID {
		t.Errorf("Verify(nil key) = %+v, %v", r, err)
	}
}

func TestSealIsDeterministic(t *testing.T) {
	ctx := context.Background()
	d := NewDir(t.TempDir())
	a, err := Seal(ctx, d, "a", testInfo(), testSources(), testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Seal(ctx, d, "b", testInfo(), testSources(), testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest {
		t.Errorf("same input, digests %s and %s", a.Digest, b.Digest)
	}
}

func TestVerifyFlippedByte(t *testing.T) {
	d, _, key := sealed(t)
	data, err := os.ReadFile(bundlePath(d, "okta.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("user.session.start"))
	data[i] ^= 0x01 // 'u' -> 't': same size, same lines
	overwrite(t, d, "okta.jsonl", data)

	r, err := Verify(context.Background(), d, bundleID, key.Public().(ed25519.PublicKey))
	wantProblem(t, r, err, "okta.jsonl: SHA-256 does not match the manifest", "okta.jsonl")
	if !r.SignatureOK || !r.ChainOK {
		t.Errorf("signature %v chain %v: the manifest was not touched", r.SignatureOK, r.ChainOK)
	}
	if r.Files[0].OK || !r.Files[1].OK || !r.Files[2].OK {
		t.Errorf("Files %+v", r.Files)
	}
}

func TestVerifyEditedManifest(t *testing.T) {
	d, _, key := sealed(t)
	data, err := os.ReadFile(bundlePath(d, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	overwrite(t, d, ManifestFile, bytes.Replace(data, []byte(`"emp-42"`), []byte(`"emp-43"`), 1))

	r, err := Verify(context.Background(), d, bundleID, key.Public().(ed25519.PublicKey))
	wantProblem(t, r, err, "manifest.json: Ed25519 signature (manifest.sig) does not verify", ManifestFile)
	if r.SignatureOK {
		t.Error("SignatureOK")
	}
	// Even with the bundle's own key.
	r, err = Verify(context.Background(), d, bundleID, nil)
	wantProblem(t, r, err, "manifest.json: Ed25519 signature", ManifestFile)
}

func TestVerifyMissingFile(t *testing.T) {
	for _, name := range []string{"github.jsonl", ManifestFile, SignatureFile} {
		t.Run(name, func(t *testing.T) {
			d, _, key := sealed(t)
			if err := os.Remove(bundlePath(d, name)); err != nil {
				t.Fatal(err)
			}
			r, err := Verify(context.Background(), d, bundleID, key.Public().(ed25519.PublicKey))
			wantProblem(t, r, err, name+": missing", name)
		})
	}
}

func TestVerifyExtraFile(t *testing.T) {
	ctx := context.Background()
	d, _, key := sealed(t)
	if err := d.Put(ctx, bundleID, "notes.txt", strings.NewReader("unsealed\n")); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(ctx, d, bundleID, key.Public().(ed25519.PublicKey))
	wantProblem(t, r, err, "notes.txt: in the bundle but not in the manifest", "notes.txt")
	if !slices.Equal(r.Extra, []string{"notes.txt"}) {
		t.Errorf("Extra %v", r.Extra)
	}
}

func TestVerifyWrongTrustedKey(t *testing.T) {
	d, _, _ := sealed(t)
	other := testKey(2).Public().(ed25519.PublicKey)
	r, err := Verify(context.Background(), d, bundleID, other)
	wantProblem(t, r, err, "manifest.json: Ed25519 signature (manifest.sig) does not verify with key "+KeyID(other), ManifestFile, PublicKeyFile)
	if !strings.Contains(err.Error(), "public.key: is not the trusted key") {
		t.Errorf("error %v does not say public.key is not the trusted key", err)
	}

	// A bundle re-signed by another key, with that key as its public.key,
	// verifies only against itself.
	m := r.Manifest
	forger := testKey(3)
	m.KeyID = KeyID(forger.Public().(ed25519.PublicKey))
	resign(t, d, *m, forger)
	pub, _ := MarshalPublicKey(forger.Public().(ed25519.PublicKey))
	overwrite(t, d, PublicKeyFile, pub)
	if r, err := Verify(context.Background(), d, bundleID, nil); err != nil || r.TrustedKey {
		t.Errorf("self-signed bundle against its own key: %v (TrustedKey %v)", err, r.TrustedKey)
	}
	r, err = Verify(context.Background(), d, bundleID, testKey(1).Public().(ed25519.PublicKey))
	wantProblem(t, r, err, "manifest.json: Ed25519 signature", ManifestFile, PublicKeyFile)
}

// The signature already covers the whole manifest; what the chain adds is
// that each entry is bound to every entry before it, in order, so that
// the last entry's Chain (Head) stands for all of them, and a manifest
// whose entries were changed, reordered, added or dropped without
// recomputing every later link is caught even when it is re-signed with
// the right key. It does not stop whoever holds the key from rewriting a
// bundle and its chain whole; the Digest kept at sealing does.
func TestChain(t *testing.T) {
	_, s, _ := sealed(t)
	m := s.Manifest
	if p := m.checkChain(); len(p) != 0 {
		t.Fatalf("sealed manifest: %v", p)
	}

	edit := func(f func(*Manifest)) Manifest {
		c := m
		c.Files = slices.Clone(m.Files)
		f(&c)
		return c
	}
	changed := edit(func(m *Manifest) { m.Files[1].SHA256 = strings.Repeat("0", 64) })
	if p := changed.checkChain(); len(p) != 1 || p[0].File != "github.jsonl" || !strings.Contains(p[0].Reason, "entry 2's hash chain") {
		t.Errorf("changed entry: %v", p)
	}
	swapped := edit(func(m *Manifest) { m.Files[0], m.Files[1] = m.Files[1], m.Files[0] })
	if p := swapped.checkChain(); len(p) == 0 {
		t.Error("swapped entries: chain passed")
	}
	dropped := edit(func(m *Manifest) { m.Files = m.Files[1:] })
	if p := dropped.checkChain(); len(p) != 1 || p[0].File != "github.jsonl" {
		t.Errorf("dropped first entry: %v", p)
	}
	heads := map[string]bool{m.Head(): true}
	for _, c := range []Manifest{changed, swapped} {
		if err := c.rechain(); err != nil {
			t.Fatal(err)
		}
		if p := c.checkChain(); len(p) != 0 {
			t.Errorf("rechained: %v", p)
		}
		if heads[c.Head()] {
			t.Errorf("rechained manifest has a head seen before")
		}
		heads[c.Head()] = true
	}

	t.Run("re-signed with the right key", func(t *testing.T) {
		d, s, key := sealed(t)
		c := s.Manifest
		c.Files = slices.Clone(c.Files)
		c.Files[1], c.Files[2] = c.Files[2], c.Files[1]
		resign(t, d, c, key)
		r, err := Verify(context.Background(), d, bundleID, key.Public().(ed25519.PublicKey))
		wantProblem(t, r, err, "hash chain does not match", "github.jsonl", "gworkspace.jsonl")
		if !r.SignatureOK || r.ChainOK {
			t.Errorf("signature %v chain %v, want true false", r.SignatureOK, r.ChainOK)
		}
	})

	t.Run("rewritten whole by the key's holder", func(t *testing.T) {
		d, s, key := sealed(t)
		data, _ := os.ReadFile(bundlePath(d, "okta.jsonl"))
		data = bytes.Replace(data, []byte("198.51.100.7"), []byte("203.0.113.99"), 1)
		overwrite(t, d, "okta.jsonl", data)
		c := s.Manifest
		c.Files = slices.Clone(c.Files)
		c.Files[0].SHA256 = sha256Hex(data)
		c.Files[0].Bytes = int64(len(data))
		if err := c.rechain(); err != nil {
			t.Fatal(err)
		}
		resign(t, d, c, key)
		r, err := Verify(context.Background(), d, bundleID, key.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatalf("a consistent forgery by the key's holder verifies on its own, got %v", err)
		}
		if r.Digest == s.Digest {
			t.Error("forged bundle has the sealed digest")
		}
	})
}

func TestDir(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	d := NewDir(filepath.Join(parent, "root"))

	if names, err := d.List(ctx, "nothing"); err != nil || len(names) != 0 {
		t.Errorf("List of a missing bundle = %v, %v", names, err)
	}
	if err := d.Put(ctx, "b", "f.jsonl", strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	err := d.Put(ctx, "b", "f.jsonl", strings.NewReader("two"))
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Put: %v, want fs.ErrExist", err)
	}
	if got := get(t, d, "b", "f.jsonl"); got != "one" {
		t.Errorf("after a refused Put the file holds %q", got)
	}
	if _, err := d.Get(ctx, "b", "none"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a missing file: %v, want fs.ErrNotExist", err)
	}

	// A Put whose reader fails leaves nothing.
	if err := d.Put(ctx, "b", "broken", io.MultiReader(strings.NewReader("partial"), errReader{})); err == nil {
		t.Error("Put from a failing reader succeeded")
	}
	if names, _ := d.List(ctx, "b"); !slices.Equal(names, []string{"f.jsonl"}) {
		t.Errorf("after a failed Put: %v", names)
	}
	entries, _ := os.ReadDir(filepath.Join(d.Root(), "b"))
	if len(entries) != 1 {
		t.Errorf("after a failed Put the bundle dir holds %v", entries)
	}

	bad := []string{"", ".", "..", "../x", "a/b", `a\b`, "/etc", ".hidden", "a b", "a\x00b", "é", strings.Repeat("a", 129)}
	for _, name := range bad {
		if err := d.Put(ctx, name, "f", strings.NewReader("x")); err == nil {
			t.Errorf("Put(bundle %q) succeeded", name)
		}
		if err := d.Put(ctx, "b", name, strings.NewReader("x")); err == nil {
			t.Errorf("Put(file %q) succeeded", name)
		}
		if _, err := d.Get(ctx, name, "f.jsonl"); err == nil {
			t.Errorf("Get(bundle %q) succeeded", name)
		}
		if _, err := d.Get(ctx, "b", name); err == nil {
			t.Errorf("Get(file %q) succeeded", name)
		}
		if _, err := d.List(ctx, name); err == nil {
			t.Errorf("List(%q) succeeded", name)
		}
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("outside the root: %v", entries)
	}

	// Symbolic links out of the root are not followed.
	outside := filepath.Join(parent, "outside")
	if err := os.Mkdir(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600)
	if err := os.Symlink(outside, filepath.Join(d.Root(), "link")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := d.Put(ctx, "link", "f", strings.NewReader("x")); err == nil {
		t.Error("Put through a symlinked bundle succeeded")
	}
	if _, err := d.Get(ctx, "link", "secret"); err == nil {
		t.Error("Get through a symlinked bundle succeeded")
	}
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(d.Root(), "b", "secret"))
	if _, err := d.Get(ctx, "b", "secret"); err == nil {
		t.Error("Get of a symlink out of the root succeeded")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("outside dir holds %v", entries)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func get(t *testing.T, d *Dir, bundle, name string) string {
	t.Helper()
	rc, err := d.Get(context.Background(), bundle, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "evidence.pem")
	key, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new key mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || !again.Equal(key) {
		t.Errorf("reloaded key differs (%v)", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key dir holds %v", entries)
	}

	pubPath := filepath.Join(t.TempDir(), "public.key")
	pem, _ := MarshalPublicKey(key.Public().(ed25519.PublicKey))
	os.WriteFile(pubPath, pem, 0o644)
	if pub, err := LoadPublicKey(pubPath); err != nil || !pub.Equal(key.Public()) {
		t.Errorf("LoadPublicKey = %v, %v", pub, err)
	}
	if _, err := LoadPublicKey(path); err == nil {
		t.Error("LoadPublicKey of a private key succeeded")
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Errorf("0644 key: %v, want a refusal", err)
	}
	if data, _ := os.ReadFile(path); !bytes.Contains(data, []byte("PRIVATE KEY")) {
		t.Error("the refused key file was changed")
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	d, s, key := sealed(t)
	var buf bytes.Buffer
	if err := Export(ctx, d, bundleID, &buf); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	Export(ctx, d, bundleID, &again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two exports differ")
	}

	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := t.TempDir()
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || h.Mode != 0o600 || filepath.IsAbs(h.Name) || strings.Contains(h.Name, "..") || !h.ModTime.Equal(s.Manifest.CreatedAt) {
			t.Errorf("entry %s: type %c mode %o time %v", h.Name, h.Typeflag, h.Mode, h.ModTime)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(d.Root(), h.Name))
		if err != nil || !bytes.Equal(data, want) {
			t.Errorf("%s: exported bytes differ from the bundle's (%v)", h.Name, err)
		}
		got = append(got, h.Name)
		os.MkdirAll(filepath.Join(out, filepath.Dir(h.Name)), 0o700)
		os.WriteFile(filepath.Join(out, h.Name), data, 0o600)
	}
	names, _ := d.List(ctx, bundleID)
	var want []string
	for _, n := range names {
		want = append(want, bundleID+"/"+n)
	}
	if !slices.Equal(got, want) {
		t.Errorf("tar holds %v, want %v", got, want)
	}

	// The extracted bundle verifies.
	if _, err := Verify(ctx, NewDir(out), bundleID, key.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("extracted bundle: %v", err)
	}
}

func TestRawRoundTrip(t *testing.T) {
	raws := []string{
		`{"a":"<&>","u":"\u00e9é\ud83d\ude00","big":123456789012345678901234567890,"f":1.50e+10}`,
		`{"dup":1,"dup":2,"nested":{"x":[null,true,false,"",{}]}}`,
		`"a string"`,
		`[1,2,3]`,
		`{"esc":"line\nbreak \"quoted\" \\ tab\t"}`,
	}
	var events []Event
	for i, r := range raws {
		events = append(events, Event{Time: t0.Add(time.Duration(i) * time.Second), Actor: "x", Action: "a", Raw: json.RawMessage(r)})
	}
	pretty := "{\n  \"pretty\": [\n    1,\n    2\n  ]\n}"
	events = append(events, Event{Time: t0.Add(time.Minute), Actor: "x", Action: "a", Raw: json.RawMessage(pretty)})
	events = append(events, Event{Time: t0.Add(time.Hour), Actor: "x", Action: "a"})

	d := NewDir(t.TempDir())
	if _, err := Seal(context.Background(), d, "raw", testInfo(), []Source{{System: "okta", Events: events}}, testKey(1)); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(d.Root(), "raw", "okta.jsonl"))
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events", len(lines), len(events))
	}
	for i, line := range lines {
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		want := string(events[i].Raw)
		switch {
		case i == len(raws):
			var c bytes.Buffer
			json.Compact(&c, []byte(pretty))
			want = c.String() // whitespace between tokens is all that goes
		case i == len(raws)+1:
			want = "null"
		}
		if string(e.Raw) != want {
			t.Errorf("line %d raw\n got %s\nwant %s", i+1, e.Raw, want)
		}
		if !e.Time.Equal(events[i].Time) || e.System != "okta" || e.Actor != "x" {
			t.Errorf("line %d: %+v", i+1, e)
		}
	}
}

func TestSealRefuses(t *testing.T) {
	ctx := context.Background()
	key := testKey(1)
	d, _, _ := sealed(t)
	if _, err := Seal(ctx, d, bundleID, testInfo(), testSources(), key); err == nil || !strings.Contains(err.Error(), "already has files") {
		t.Errorf("resealing: %v", err)
	}
	cases := map[string][]Source{
		"no sources":      nil,
		"system twice":    {{System: "okta"}, {System: "okta"}},
		"bad system":      {{System: "../okta"}},
		"another system":  {{System: "okta", Events: []Event{{System: "github", Raw: json.RawMessage(`{}`)}}}},
		"raw is not json": {{System: "okta", Events: []Event{{Raw: json.RawMessage(`{"a":`)}}}},
		"empty system":    {{System: ""}},
	}
	for name, sources := range cases {
		t.Run(name, func(t *testing.T) {
			d := NewDir(t.TempDir())
			if _, err := Seal(ctx, d, "b", testInfo(), sources, key); err == nil {
				t.Error("Seal succeeded")
			}
			if names, _ := d.List(ctx, "b"); slices.Contains(names, SignatureFile) {
				t.Errorf("a refused seal wrote %v", names)
			}
		})
	}
	d2 := NewDir(t.TempDir())
	if _, err := Seal(ctx, d2, "b", ManifestInfo{}, testSources(), key); err == nil {
		t.Error("Seal without a case ID succeeded")
	}
	if _, err := Seal(ctx, d2, "b", testInfo(), testSources(), nil); err == nil {
		t.Error("Seal without a key succeeded")
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, slices.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// BenchmarkSeal seals 100,000 events from four systems into a Dir, and
// verifies the bundle once at the end. It reports events/s and MB/s.
func BenchmarkSeal(b *testing.B) {
	const n = 100_000
	systems := []string{"okta", "github", "gworkspace", "aws"}
	sources := make([]Source, len(systems))
	for i := range n {
		s := i % len(systems)
		raw := fmt.Sprintf(`{"uuid":"%08d","eventType":"user.session.start","client":{"ipAddress":"198.51.100.%d","userAgent":{"rawUserAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15"}},"outcome":{"result":"SUCCESS"}}`, i, i%250)
		sources[s].Events = append(sources[s].Events, Event{
			Time: t0.Add(-time.Duration(n-i) * time.Second), Actor: "00u1", Action: "user.session.start",
			SourceIP: "198.51.100.7", Outcome: "success", Raw: json.RawMessage(raw),
		})
	}
	for i, s := range systems {
		sources[i].System = s
	}
	d := NewDir(b.TempDir())
	key := testKey(1)
	ctx := context.Background()
	var last Sealed
	var bundle string
	iters := 0
	for b.Loop() {
		bundle = fmt.Sprintf("bench-%d", iters)
		s, err := Seal(ctx, d, bundle, testInfo(), sources, key)
		if err != nil {
			b.Fatal(err)
		}
		last = s
		iters++
	}
	var size int64
	for _, f := range last.Manifest.Files {
		size += f.Bytes
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(n*iters)/secs, "events/s")
	b.ReportMetric(float64(size*int64(iters))/secs/1e6, "MB/s")
	b.ReportMetric(float64(size)/1e6, "MB/bundle")
	if _, err := Verify(ctx, d, bundle, key.Public().(ed25519.PublicKey)); err != nil {
		b.Fatal(err)
	}
}

func TestSealOrder(t *testing.T) {
	// Many events at a few instants: sorted by time, the rest as given.
	var events []Event
	for i := range 200 {
		events = append(events, Event{Time: t0.Add(time.Duration((i*7)%3) * time.Second), Actor: fmt.Sprint(i), Action: "a", Raw: json.RawMessage(`{}`)})
	}
	d := NewDir(t.TempDir())
	if _, err := Seal(context.Background(), d, "order", testInfo(), []Source{{System: "okta", Events: events}}, testKey(1)); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(events)
	slices.SortStableFunc(want, func(a, b Event) int { return a.Time.Compare(b.Time) })
	for i, line := range readLines(t, filepath.Join(d.Root(), "order", "okta.jsonl")) {
		var e Event
		json.Unmarshal(line, &e)
		if e.Actor != want[i].Actor {
			t.Fatalf("line %d is event %s, want %s", i+1, e.Actor, want[i].Actor)
		}
	}
	if events[0].System != "" {
		t.Error("Seal changed the caller's events")
	}
}
