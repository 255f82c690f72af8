package config

import (
	"errors"
	"fmt"
	"time"
)

// Evidence configures the snapshot taken at the cut (the config file's
// evidence key): how far back, where bundles are kept, and the key that
// signs them.
type Evidence struct {
	// Days is how far before the cut the person's activity is read;
	// default DefaultEvidenceDays.
	Days int `yaml:"days,omitempty"`
	// After is how long after the cut the window runs (the snapshot is
	// taken then); default DefaultEvidenceAfter (unset: nil).
	After *time.Duration `yaml:"after,omitempty"`
	// KeyFile holds the Ed25519 private key that signs manifests (PEM
	// PKCS#8, readable by its owner only).
	KeyFile string `yaml:"keyFile"`
	// Dir is a local directory store; S3 an S3 bucket with Object Lock.
	// Exactly one.
	Dir string      `yaml:"dir,omitempty"`
	S3  *EvidenceS3 `yaml:"s3,omitempty"`
	// RiskyASNs adds networks (ASN → name: anonymising VPNs, hosting) to
	// the ones offboard flags.
	RiskyASNs map[string]string `yaml:"riskyAsns,omitempty"`
}

// EvidenceS3 is an S3 bucket with Object Lock; objects are written in
// compliance mode with Retention.
type EvidenceS3 struct {
	Bucket       string        `yaml:"bucket"`
	Prefix       string        `yaml:"prefix,omitempty"`
	Retention    time.Duration `yaml:"retention"`
	Region       string        `yaml:"region,omitempty"`
	Endpoint     string        `yaml:"endpoint,omitempty"`
	UsePathStyle bool          `yaml:"usePathStyle,omitempty"`
}

// Evidence defaults.
const (
	DefaultEvidenceDays  = 30
	DefaultEvidenceAfter = 5 * time.Minute
	MaxEvidenceDays      = 180
)

// AfterCut is After, or its default when unset.
func (e *Evidence) AfterCut() time.Duration {
	if e.After == nil {
		return DefaultEvidenceAfter
	}
	return *e.After
}

func (e *Evidence) fill() {
	if e.Days == 0 {
		e.Days = DefaultEvidenceDays
	}
	if e.After == nil {
		d := DefaultEvidenceAfter
		e.After = &d
	}
}

func (e *Evidence) validate() error {
	var errs []error
	if e.Days < 1 || e.Days > MaxEvidenceDays {
		errs = append(errs, fmt.Errorf("evidence.days %d: want 1 to %d (the vendors keep 7 to 180 days)", e.Days, MaxEvidenceDays))
	}
	if a := e.AfterCut(); a < 0 || a > time.Hour {
		errs = append(errs, fmt.Errorf("evidence.after %s: want 0 to 1h", a))
	}
	if e.KeyFile == "" {
		errs = append(errs, errors.New("evidence.keyFile is missing: the Ed25519 key that signs bundles"))
	}
	switch {
	case e.Dir == "" && e.S3 == nil:
		errs = append(errs, errors.New("evidence has no store: set evidence.dir or evidence.s3"))
	case e.Dir != "" && e.S3 != nil:
		errs = append(errs, errors.New("evidence has two stores: set evidence.dir or evidence.s3, not both"))
	}
	if s := e.S3; s != nil {
		if s.Bucket == "" {
			errs = append(errs, errors.New("evidence.s3.bucket is missing"))
		}
		if s.Retention <= 0 {
			errs = append(errs, errors.New("evidence.s3.retention is missing: how long Object Lock keeps each bundle (like 2160h)"))
		}
		if s.Endpoint != "" && !AbsoluteURL(s.Endpoint) {
			errs = append(errs, errors.New("evidence.s3.endpoint must be an absolute URL"))
		}
	}
	return errors.Join(errs...)
}
