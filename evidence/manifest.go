package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Format names the bundle layout a Manifest describes. Verify refuses a
// manifest of another format.
const Format = "offboard-evidence/1"

// The names of a bundle's files other than its sources' event files.
const (
	// ManifestFile is the manifest, as JSON; ManifestFile's exact bytes are
	// what SignatureFile signs and what a Digest is of.
	ManifestFile = "manifest.json"
	// SignatureFile is the Ed25519 signature over ManifestFile's bytes,
	// base64 (standard encoding) and a newline.
	SignatureFile = "manifest.sig"
	// PublicKeyFile is the signer's public key, PEM (PKIX "PUBLIC KEY").
	PublicKeyFile = "public.key"
)

// Manifest describes a sealed bundle: whose evidence it is, the window it
// covers, and each file with its SHA-256, size and event count.
type Manifest struct {
	// Format is always [Format].
	Format     string `json:"format"`
	CaseID     string `json:"caseId"`
	EmployeeID string `json:"employeeId"`
	// Window is the span the events were collected for.
	Window Window `json:"window"`
	// CollectorVersion is the version of offboard that collected and
	// sealed the events.
	CollectorVersion string    `json:"collectorVersion"`
	CreatedAt        time.Time `json:"createdAt"`
	// Files are the bundle's event files, one per source, in the order
	// the sources were given to Seal. Each entry's Chain links it to the
	// entries before it.
	Files []FileEntry `json:"files"`
	// Incomplete lists the sources whose events may not be all of them,
	// and why. It is empty, not absent, when every source was complete.
	Incomplete []Incomplete `json:"incomplete"`
	// KeyID identifies the key that signed the manifest; see [KeyID].
	KeyID string `json:"keyId"`
	// Assessment is what was concluded from the events (the insider
	// signals and risk level), signed with the rest.
	Assessment json.RawMessage `json:"assessment,omitempty"`
}

// Window is a span of time, From to To.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// FileEntry describes one file of a bundle: a source's events, one JSON
// object ([Event]) per line, sorted by time.
type FileEntry struct {
	// Name is the file's name in the bundle: System + ".jsonl".
	Name   string `json:"name"`
	System string `json:"system"`
	// SHA256 is the file's SHA-256, hex.
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Events int    `json:"events"`
	// First and Last are the times of the file's first and last events
	// (absent when it has none).
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Chain is SHA-256(previous entry's Chain bytes || this entry's JSON
	// without Chain), hex; the first entry chains from 32 zero bytes. The
	// entry's JSON is encoding/json's compact encoding of the entry, fields
	// in the order above. The last entry's Chain is thus a hash of every
	// entry, in order.
	Chain string `json:"chain,omitempty"`
}

// Incomplete says that a source's events may not be all of them, and why
// (the vendor's API failed, the retention was shorter than the window...).
type Incomplete struct {
	System string `json:"system"`
	Reason string `json:"reason"`
}

// Marshal returns the manifest's canonical bytes: its JSON, indented by
// two spaces, with a trailing newline. Seal writes these bytes as
// manifest.json and signs them.
func (m Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("evidence: encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// Digest returns the SHA-256 (hex) of the manifest's canonical bytes
// ([Manifest.Marshal]), which for a bundle Seal wrote is the SHA-256 of
// its manifest.json. A workflow that keeps the digest can later tell the
// bundle it sealed from any other, even one re-signed with the same key.
func (m Manifest) Digest() (string, error) {
	b, err := m.Marshal()
	if err != nil {
		return "", err
	}
	return sha256Hex(b), nil
}

// Head returns the last entry's Chain: one hash over every file entry, in
// order ("" when there are none).
func (m Manifest) Head() string {
	if len(m.Files) == 0 {
		return ""
	}
	return m.Files[len(m.Files)-1].Chain
}

// chainLink returns SHA-256(prev || e's JSON without Chain).
func chainLink(prev []byte, e FileEntry) ([]byte, error) {
	e.Chain = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("evidence: encode entry %s: %w", e.Name, err)
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(b)
	return h.Sum(nil), nil
}

// rechain sets every entry's Chain.
func (m *Manifest) rechain() error {
	prev := make([]byte, sha256.Size)
	for i := range m.Files {
		link, err := chainLink(prev, m.Files[i])
		if err != nil {
			return err
		}
		m.Files[i].Chain = hex.EncodeToString(link)
		prev = link
	}
	return nil
}

// checkChain recomputes every entry's link from the previous entry's
// recorded Chain and returns a Problem for each entry whose recorded Chain
// differs: the entry that was changed, or the first after an entry that
// was inserted, removed or moved.
func (m Manifest) checkChain() []Problem {
	var problems []Problem
	prev := make([]byte, sha256.Size)
	for i, e := range m.Files {
		want, err := chainLink(prev, e)
		if err != nil {
			problems = append(problems, Problem{File: e.Name, Reason: err.Error()})
			return problems
		}
		got, err := hex.DecodeString(e.Chain)
		if err != nil || !bytes.Equal(got, want) {
			problems = append(problems, Problem{File: e.Name, Reason: fmt.Sprintf("manifest entry %d's hash chain does not match", i+1)})
		}
		if err != nil || len(got) != sha256.Size {
			got = want // carry on from what the link should have been
		}
		prev = got
	}
	return problems
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
