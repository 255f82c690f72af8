package config

import "log/slog"

// Secret is a credential. It prints, logs and marshals as a placeholder; use
// Reveal to read it.
type Secret string

const redacted = "[REDACTED]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from revealing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps JSON and YAML encoders from revealing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
