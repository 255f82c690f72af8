package evidence

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Export writes bundle's files to w as a gzipped tar: one regular file
// per bundle file, named bundle + "/" + name, in name order, mode 0600,
// owned by 0:0, dated the manifest's CreatedAt (the Unix epoch when the
// manifest cannot be read), so exporting a bundle twice gives the same
// bytes. Extracted, the directory is a bundle that Verify can check with
// a [Dir] at its parent. Export copies; it does not verify. It holds one
// file in memory at a time.
func Export(ctx context.Context, store Store, bundle string, w io.Writer) error {
	if !ValidName(bundle) {
		return fmt.Errorf("evidence: export: invalid bundle name %q", bundle)
	}
	names, err := store.List(ctx, bundle)
	if err != nil {
		return fmt.Errorf("evidence: export: %w", err)
	}
	if len(names) == 0 {
		return fmt.Errorf("evidence: export: bundle %s has no files", bundle)
	}
	names = slices.Sorted(slices.Values(names))

	mtime := time.Unix(0, 0).UTC()
	if slices.Contains(names, ManifestFile) {
		data, err := readAll(ctx, store, bundle, ManifestFile)
		if err != nil {
			return fmt.Errorf("evidence: export: %w", err)
		}
		var m Manifest
		if json.Unmarshal(data, &m) == nil && !m.CreatedAt.IsZero() {
			mtime = m.CreatedAt.UTC()
		}
	}

	zw := gzip.NewWriter(w) // no name, no time: the same bytes every time
	tw := tar.NewWriter(zw)
	for _, name := range names {
		if !ValidName(name) {
			return fmt.Errorf("evidence: export: invalid file name %q", name)
		}
		data, err := readAll(ctx, store, bundle, name)
		if err != nil {
			return fmt.Errorf("evidence: export: %w", err)
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     bundle + "/" + name,
			Mode:     0o600,
			Size:     int64(len(data)),
			ModTime:  mtime,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("evidence: export %s: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("evidence: export %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("evidence: export: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("evidence: export: %w", err)
	}
	return nil
}
