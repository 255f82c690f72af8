package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// LoadOrCreateKey returns the evidence signing key kept at path, a PEM
// PKCS#8 "PRIVATE KEY" file. When there is no file there it generates a
// key and writes it, mode 0600 (creating the directory, 0700, if need be).
// It refuses a key file that group or others may read or write, and a key
// that is not Ed25519.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	key, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("evidence: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("evidence: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("evidence: key directory: %w", err)
	}
	// Write a temporary file and link it into place, so that the key file
	// is never seen half-written and an existing one is never replaced.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".evidence-key-*")
	if err != nil {
		return nil, fmt.Errorf("evidence: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeAndClose(tmp, data); err != nil {
		return nil, fmt.Errorf("evidence: write key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first: use theirs.
			return loadKey(path)
		}
		return nil, fmt.Errorf("evidence: write key: %w", err)
	}
	return key, nil
}

func writeAndClose(f *os.File, data []byte) error {
	// CreateTemp's file is 0600 already; make sure.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadKey reads an existing private key written by LoadOrCreateKey,
// refusing one readable by others.
func LoadKey(path string) (ed25519.PrivateKey, error) { return loadKey(path) }

// loadKey reads the private key at path; an error wrapping fs.ErrNotExist
// means there is none.
func loadKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evidence: key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("evidence: key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("evidence: key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("evidence: key %s is open to group or others (mode %04o); it must be 0600", path, perm)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("evidence: key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("evidence: key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("evidence: key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("evidence: key %s is a %T, not Ed25519", path, k)
	}
	return key, nil
}

// LoadPublicKey reads a PEM PKIX "PUBLIC KEY" file, such as a bundle's
// public.key, and returns the Ed25519 key in it.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evidence: public key: %w", err)
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return pub, nil
}

// ParsePublicKey parses a PEM PKIX "PUBLIC KEY" holding an Ed25519 key.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("evidence: public key: not a PEM PUBLIC KEY")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("evidence: public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("evidence: public key is a %T, not Ed25519", k)
	}
	return pub, nil
}

// MarshalPublicKey returns pub as PEM PKIX "PUBLIC KEY", as in a bundle's
// public.key.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("evidence: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeyID returns a short name for pub: the first 8 bytes of the SHA-256 of
// the raw 32-byte key, hex (16 characters).
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}
