package evidence

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// ManifestInfo is what Seal puts in a manifest besides its files.
type ManifestInfo struct {
	CaseID           string
	EmployeeID       string
	Window           Window
	CollectorVersion string
	// CreatedAt is the sealing time; zero means now. Given the same
	// CreatedAt, sources and key, Seal writes the same bytes.
	CreatedAt time.Time
	// Assessment, when set, is sealed into the manifest (valid JSON).
	Assessment json.RawMessage
}

// Source is one system's events for a bundle.
type Source struct {
	// System names the source ("okta", "github"); its events go in
	// System + ".jsonl", so it must be a [ValidName].
	System string
	Events []Event
	// Incomplete, when not "", says why Events may not be all of the
	// system's events in the window.
	Incomplete string
}

// Sealed is what Seal wrote.
type Sealed struct {
	Manifest Manifest
	// Digest is the SHA-256 (hex) of the manifest.json written; see
	// [Manifest.Digest].
	Digest string
	// Counts is the number of events written, by system.
	Counts map[string]int
}

// Seal writes a bundle to store: for each source, System + ".jsonl", its
// events one JSON object per line sorted by time (events at the same time
// keep their order), each Event's Raw kept (encoding/json compacts it but
// changes nothing else); then public.key, manifest.json and manifest.sig,
// key's Ed25519 signature over manifest.json's exact bytes. Every source
// gets a file, an empty one when it has no events. An Event whose System
// is "" is written with the source's System; one with another System is
// an error.
//
// Seal refuses a bundle that already has files. It writes manifest.sig
// last: a bundle without one was not sealed, and cannot be resealed under
// the same name (stores never replace files), so a retry should use a new
// bundle name.
func Seal(ctx context.Context, store Store, bundle string, info ManifestInfo, sources []Source, key ed25519.PrivateKey) (Sealed, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Sealed{}, errors.New("evidence: seal: no Ed25519 private key")
	}
	if !ValidName(bundle) {
		return Sealed{}, fmt.Errorf("evidence: seal: invalid bundle name %q", bundle)
	}
	if info.CaseID == "" || info.EmployeeID == "" {
		return Sealed{}, errors.New("evidence: seal: a case ID and an employee ID are required")
	}
	if info.Window.To.Before(info.Window.From) {
		return Sealed{}, fmt.Errorf("evidence: seal: window ends (%s) before it starts (%s)", info.Window.To, info.Window.From)
	}
	if len(sources) == 0 {
		return Sealed{}, errors.New("evidence: seal: no sources")
	}
	seen := make(map[string]bool)
	for _, s := range sources {
		if !ValidName(s.System + ".jsonl") {
			return Sealed{}, fmt.Errorf("evidence: seal: invalid system name %q", s.System)
		}
		if seen[s.System] {
			return Sealed{}, fmt.Errorf("evidence: seal: system %s given twice", s.System)
		}
		seen[s.System] = true
	}
	existing, err := store.List(ctx, bundle)
	if err != nil {
		return Sealed{}, fmt.Errorf("evidence: seal: %w", err)
	}
	if len(existing) > 0 {
		return Sealed{}, fmt.Errorf("evidence: seal: bundle %s already has files (%s, ...)", bundle, existing[0])
	}

	pub := key.Public().(ed25519.PublicKey)
	m := Manifest{
		Format:           Format,
		CaseID:           info.CaseID,
		EmployeeID:       info.EmployeeID,
		Window:           info.Window,
		CollectorVersion: info.CollectorVersion,
		CreatedAt:        info.CreatedAt,
		Files:            make([]FileEntry, 0, len(sources)),
		Incomplete:       []Incomplete{},
		KeyID:            KeyID(pub),
		Assessment:       info.Assessment,
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	counts := make(map[string]int, len(sources))
	for _, s := range sources {
		e, err := writeSource(ctx, store, bundle, s)
		if err != nil {
			return Sealed{}, err
		}
		m.Files = append(m.Files, e)
		counts[s.System] = e.Events
		if s.Incomplete != "" {
			m.Incomplete = append(m.Incomplete, Incomplete{System: s.System, Reason: s.Incomplete})
		}
	}
	if err := m.rechain(); err != nil {
		return Sealed{}, err
	}
	manifest, err := m.Marshal()
	if err != nil {
		return Sealed{}, err
	}
	pubPEM, err := MarshalPublicKey(pub)
	if err != nil {
		return Sealed{}, err
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, manifest)) + "\n"
	for _, f := range []struct {
		name string
		data []byte
	}{
		{PublicKeyFile, pubPEM},
		{ManifestFile, manifest},
		{SignatureFile, []byte(sig)},
	} {
		if err := store.Put(ctx, bundle, f.name, bytes.NewReader(f.data)); err != nil {
			return Sealed{}, fmt.Errorf("evidence: seal: %w", err)
		}
	}
	return Sealed{Manifest: m, Digest: sha256Hex(manifest), Counts: counts}, nil
}

// writeSource writes s's events to the store as they are encoded, and
// returns the file's entry (without Chain).
func writeSource(ctx context.Context, store Store, bundle string, s Source) (FileEntry, error) {
	events := slices.Clone(s.Events)
	slices.SortStableFunc(events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	for i := range events {
		switch events[i].System {
		case "":
			events[i].System = s.System
		case s.System:
		default:
			return FileEntry{}, fmt.Errorf("evidence: seal: %s has an event of system %s", s.System, events[i].System)
		}
	}
	entry := FileEntry{Name: s.System + ".jsonl", System: s.System, Events: len(events)}
	if len(events) > 0 {
		entry.First = events[0].Time
		entry.Last = events[len(events)-1].Time
	}

	h := sha256.New()
	n := &countWriter{}
	pr, pw := io.Pipe()
	encoded := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(io.MultiWriter(h, n, pw), 64<<10)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		var err error
		for i := range events {
			if err = enc.Encode(&events[i]); err != nil {
				err = fmt.Errorf("evidence: seal: %s event %d (%s): %w", s.System, i+1, events[i].Time.Format(time.RFC3339Nano), err)
				break
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		encoded <- err
	}()
	err := store.Put(ctx, bundle, entry.Name, pr)
	pr.CloseWithError(errStoreStopped) // unblock the encoder if Put gave up early
	if encErr := <-encoded; encErr != nil && (err == nil || !errors.Is(encErr, errStoreStopped)) {
		// An event would not encode (and Put failed for it), or Put
		// returned without reading everything.
		return FileEntry{}, encErr
	}
	if err != nil {
		return FileEntry{}, fmt.Errorf("evidence: seal: %w", err)
	}
	entry.SHA256 = hex.EncodeToString(h.Sum(nil))
	entry.Bytes = n.n
	return entry, nil
}

var errStoreStopped = errors.New("evidence: the store stopped reading")

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
