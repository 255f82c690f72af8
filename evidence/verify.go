package evidence

import (
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
	"io/fs"
	"slices"
)

// Problem is one thing wrong with a bundle, naming the file it is in.
type Problem struct {
	File   string
	Reason string
}

// Error returns "file: reason".
func (p Problem) Error() string { return p.File + ": " + p.Reason }

// FileResult is what Verify found of one file the manifest lists.
type FileResult struct {
	Name   string
	SHA256 string // as re-hashed; "" when the file could not be read
	Bytes  int64
	Events int // lines
	OK     bool
}

// Report is what Verify found.
type Report struct {
	Bundle string
	// Manifest is the bundle's manifest as read (nil when it could not be
	// read). Until OK, nothing in it is to be trusted.
	Manifest *Manifest
	// Digest is the SHA-256 (hex) of manifest.json as read: compare it
	// with the digest kept when the bundle was sealed.
	Digest string
	// KeyID is the [KeyID] of the key the signature was checked against.
	KeyID string
	// TrustedKey is false when no trusted key was given and the signature
	// was checked against the bundle's own public.key, which shows only
	// that whoever holds that key signed it, not that the deployment did.
	TrustedKey bool
	// SignatureOK is whether manifest.sig is a valid signature over
	// manifest.json by the key KeyID names.
	SignatureOK bool
	// ChainOK is whether every manifest entry's Chain matches.
	ChainOK bool
	// Files is a result for each file the manifest lists, in its order.
	Files []FileResult
	// Extra names the files in the bundle that the manifest does not list
	// (other than manifest.json, manifest.sig and public.key).
	Extra []string
	// Problems is everything wrong; none when the bundle verified.
	Problems []Problem
}

// OK reports whether the bundle verified: no problems.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Err returns the problems joined (each "file: reason"), or nil.
func (r Report) Err() error {
	errs := make([]error, len(r.Problems))
	for i, p := range r.Problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

func (r *Report) problem(file, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{File: file, Reason: fmt.Sprintf(format, args...)})
}

// Verify checks a bundle in store: manifest.sig against manifest.json with
// trusted (nil: with the bundle's own public.key, and the Report says so),
// the manifest's format, key ID and hash chain, and each file it lists,
// re-hashed, against its SHA-256, size and event count; and that the
// bundle has no file the manifest does not list. It goes on past a problem
// to find them all. It returns an error, the problems joined, each of
// which is a [Problem] naming its file ("okta.jsonl: SHA-256 does not
// match the manifest"), when anything is wrong; the Report either way. An
// error reading the store is a problem of the file being read, except a
// done context, which ends Verify.
func Verify(ctx context.Context, store Store, bundle string, trusted ed25519.PublicKey) (Report, error) {
	r := Report{Bundle: bundle}
	if trusted != nil && len(trusted) != ed25519.PublicKeySize {
		return r, errors.New("evidence: verify: the trusted key is not an Ed25519 public key")
	}
	names, err := store.List(ctx, bundle)
	if err != nil {
		return r, fmt.Errorf("evidence: verify: %w", err)
	}
	if len(names) == 0 {
		return r, fmt.Errorf("evidence: verify: bundle %s has no files", bundle)
	}
	read := func(name string) ([]byte, bool) {
		if !slices.Contains(names, name) {
			r.problem(name, "missing")
			return nil, false
		}
		b, err := readAll(ctx, store, bundle, name)
		if err != nil {
			r.problem(name, "%v", err)
			return nil, false
		}
		return b, true
	}

	manifest, ok := read(ManifestFile)
	if !ok {
		return r, r.Err()
	}
	r.Digest = sha256Hex(manifest)

	// The key.
	key := trusted
	r.TrustedKey = trusted != nil
	if slices.Contains(names, PublicKeyFile) || trusted == nil {
		if data, ok := read(PublicKeyFile); ok {
			switch pub, err := ParsePublicKey(data); {
			case err != nil:
				r.problem(PublicKeyFile, "%v", err)
			case trusted == nil:
				key = pub
			case !pub.Equal(trusted):
				r.problem(PublicKeyFile, "is not the trusted key (it is %s, the trusted key is %s)", KeyID(pub), KeyID(trusted))
			}
		}
	}

	// The signature.
	if key != nil {
		r.KeyID = KeyID(key)
		if data, ok := read(SignatureFile); ok {
			sig, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data)))
			switch {
			case err != nil || len(sig) != ed25519.SignatureSize:
				r.problem(SignatureFile, "not a base64 Ed25519 signature")
			case !ed25519.Verify(key, manifest, sig):
				r.problem(ManifestFile, "Ed25519 signature (%s) does not verify with key %s", SignatureFile, r.KeyID)
			default:
				r.SignatureOK = true
			}
		}
	} else {
		r.problem(SignatureFile, "no key to check it with")
	}

	// The manifest.
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		r.problem(ManifestFile, "not a manifest: %v", err)
		return r, r.Err()
	}
	r.Manifest = &m
	if m.Format != Format {
		r.problem(ManifestFile, "format %q, not %q", m.Format, Format)
	}
	if key != nil && m.KeyID != r.KeyID {
		r.problem(ManifestFile, "names key %s, not %s", m.KeyID, r.KeyID)
	}
	chain := m.checkChain()
	r.ChainOK = len(chain) == 0
	r.Problems = append(r.Problems, chain...)

	// The files.
	listed := map[string]bool{ManifestFile: true, SignatureFile: true, PublicKeyFile: true}
	for _, e := range m.Files {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if listed[e.Name] {
			r.problem(e.Name, "listed in the manifest twice, or in place of a bundle file")
			continue
		}
		listed[e.Name] = true
		res := FileResult{Name: e.Name}
		if !ValidName(e.Name) {
			r.problem(e.Name, "not a valid file name")
			r.Files = append(r.Files, res)
			continue
		}
		if !slices.Contains(names, e.Name) {
			r.problem(e.Name, "missing")
			r.Files = append(r.Files, res)
			continue
		}
		sum, size, lines, err := hashFile(ctx, store, bundle, e.Name)
		if err != nil {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			r.problem(e.Name, "%v", err)
			r.Files = append(r.Files, res)
			continue
		}
		res.SHA256, res.Bytes, res.Events = sum, size, lines
		before := len(r.Problems)
		if sum != e.SHA256 {
			r.problem(e.Name, "SHA-256 does not match the manifest")
		}
		if size != e.Bytes {
			r.problem(e.Name, "%d bytes, the manifest says %d", size, e.Bytes)
		}
		if lines != e.Events {
			r.problem(e.Name, "%d events, the manifest says %d", lines, e.Events)
		}
		res.OK = len(r.Problems) == before
		r.Files = append(r.Files, res)
	}
	for _, name := range names {
		if !listed[name] {
			r.Extra = append(r.Extra, name)
			r.problem(name, "in the bundle but not in the manifest")
		}
	}
	return r, r.Err()
}

func readAll(ctx context.Context, store Store, bundle, name string) ([]byte, error) {
	rc, err := store.Get(ctx, bundle, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// hashFile returns a file's SHA-256 (hex), size and number of lines (a
// last line without a newline counts).
func hashFile(ctx context.Context, store Store, bundle, name string) (string, int64, int, error) {
	rc, err := store.Get(ctx, bundle, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, 0, errors.New("missing")
	}
	if err != nil {
		return "", 0, 0, err
	}
	defer rc.Close()
	h := sha256.New()
	lc := &lineCounter{}
	n, err := io.Copy(io.MultiWriter(h, lc), rc)
	if err != nil {
		return "", 0, 0, err
	}
	lines := lc.lines
	if n > 0 && lc.last != '\n' {
		lines++
	}
	return hex.EncodeToString(h.Sum(nil)), n, lines, nil
}

// lineCounter counts the newlines written to it.
type lineCounter struct {
	lines int
	last  byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	if len(p) > 0 {
		c.last = p[len(p)-1]
	}
	return len(p), nil
}
