package evidence

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ReadEvents reads the events of a sealed bundle, file by file in the
// manifest's order, without their raw form. It checks nothing (see
// Verify); a file that cannot be read is reported with the events of the
// others.
func ReadEvents(ctx context.Context, store Store, bundle string) ([]Event, error) {
	rc, err := store.Get(ctx, bundle, ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", bundle, err)
	}
	mf, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", bundle, err)
	}
	var m Manifest
	if err := json.Unmarshal(mf, &m); err != nil {
		return nil, fmt.Errorf("read bundle %s: manifest: %w", bundle, err)
	}
	var out []Event
	var errs []error
	for _, f := range m.Files {
		evs, err := readEventFile(ctx, store, bundle, f.Name)
		out = append(out, evs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("read bundle %s: %s: %w", bundle, f.Name, err))
		}
	}
	return out, errors.Join(errs...)
}

func readEventFile(ctx context.Context, store Store, bundle, name string) ([]Event, error) {
	rc, err := store.Get(ctx, bundle, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []Event
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, err
		}
		e.Raw = nil
		out = append(out, e)
	}
	return out, sc.Err()
}
