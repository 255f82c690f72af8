package evidence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// maxNameLen bounds bundle and file names.
const maxNameLen = 128

// ValidName reports whether s may name a bundle or a bundle's file: 1 to
// 128 of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.' (so no
// "..", no hidden files, no path separators).
func ValidName(s string) bool {
	if s == "" || len(s) > maxNameLen || s[0] == '.' {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func checkNames(bundle, name string) error {
	if !ValidName(bundle) {
		return fmt.Errorf("evidence: invalid bundle name %q", bundle)
	}
	if !ValidName(name) {
		return fmt.Errorf("evidence: invalid file name %q", name)
	}
	return nil
}

// Dir is a [Store] on a local directory: each bundle a subdirectory of the
// root (mode 0700), each file in it mode 0600. Bundle and file names must
// be [ValidName]s, and every access goes through an [os.Root], so neither
// a name nor a symbolic link reaches outside the root.
type Dir struct {
	root string
}

// NewDir returns a Dir at root, which Put creates (0700) if need be.
func NewDir(root string) *Dir { return &Dir{root: root} }

// Root returns the directory the Dir keeps bundles in.
func (d *Dir) Root() string { return d.root }

// Put writes bundle's file name from r. It writes a temporary file and
// links it into place, so the file appears whole or not at all, and an
// existing file is never replaced: Put of a name that exists returns an
// error wrapping fs.ErrExist.
func (d *Dir) Put(ctx context.Context, bundle, name string, r io.Reader) error {
	if err := checkNames(bundle, name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(d.root, 0o700); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	root, err := os.OpenRoot(d.root)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer root.Close()
	if err := root.Mkdir(bundle, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("evidence: bundle %s: %w", bundle, err)
	}
	br, err := root.OpenRoot(bundle)
	if err != nil {
		return fmt.Errorf("evidence: bundle %s: %w", bundle, err)
	}
	defer br.Close()
	if _, err := br.Lstat(name); err == nil {
		return fmt.Errorf("evidence: %s/%s: %w", bundle, name, fs.ErrExist)
	}

	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".put-" + hex.EncodeToString(rnd[:]) // never a ValidName
	f, err := br.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("evidence: %s/%s: %w", bundle, name, err)
	}
	defer br.Remove(tmp)
	_, err = io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("evidence: %s/%s: %w", bundle, name, err)
	}
	if err := br.Link(tmp, name); err != nil {
		return fmt.Errorf("evidence: %s/%s: %w", bundle, name, err)
	}
	if dir, err := br.Open("."); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

// Get opens bundle's file name; an error wrapping fs.ErrNotExist means
// there is no such file.
func (d *Dir) Get(ctx context.Context, bundle, name string) (io.ReadCloser, error) {
	if err := checkNames(bundle, name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer root.Close()
	f, err := root.Open(bundle + string(os.PathSeparator) + name)
	if err != nil {
		return nil, fmt.Errorf("evidence: %s/%s: %w", bundle, name, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("evidence: %s/%s is not a regular file", bundle, name)
	}
	return f, nil
}

// List returns the names of bundle's files, sorted; none (and no error)
// for a bundle that does not exist. Only regular files with [ValidName]s are
// listed, so not a crashed Put's temporary file.
func (d *Dir) List(ctx context.Context, bundle string) ([]string, error) {
	if !ValidName(bundle) {
		return nil, fmt.Errorf("evidence: invalid bundle name %q", bundle)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(d.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer root.Close()
	entries, err := fs.ReadDir(root.FS(), bundle)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: bundle %s: %w", bundle, err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && ValidName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
