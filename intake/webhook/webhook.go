// Package webhook signs and verifies webhooks following the Standard
// Webhooks specification (https://www.standardwebhooks.com/, version 1.0.0).
//
// A sender computes HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}"
// with a shared secret and sends it, base64 encoded and prefixed with "v1,",
// in the webhook-signature header, next to the webhook-id and
// webhook-timestamp (unix seconds) headers. A receiver recomputes the MAC,
// compares it in constant time, and refuses messages whose timestamp is too
// far from its own clock, which bounds replays.
//
// Only the symmetric scheme ("v1") is implemented; other entries in the
// signature header, such as the asymmetric "v1a", are ignored.
//
// Secrets never appear in errors or formatted output of this package, and
// neither do signature values.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names defined by the specification. http.Header canonicalizes them
// (for example "Webhook-Id"); lookups through http.Header are
// case-insensitive.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix is the prefix under which symmetric secrets are presented to
// users ("whsec_" followed by standard, padded base64).
const SecretPrefix = "whsec_"

// MinSecretLen is the smallest accepted secret, in bytes, as required by the
// specification (192 bits).
const MinSecretLen = 24

// DefaultTolerance is the clock tolerance a Verifier applies when its
// Tolerance field is zero or negative.
const DefaultTolerance = 5 * time.Minute

// signatureVersion is the identifier of the symmetric HMAC-SHA256 scheme.
const signatureVersion = "v1"

// macLen is the length of an HMAC-SHA256 tag; encodedMACLen its padded
// base64 length.
const (
	macLen        = sha256.Size
	encodedMACLen = (macLen + 2) / 3 * 4
)

// maxTimestampDigits bounds the webhook-timestamp header; 18 digits cannot
// overflow an int64.
const maxTimestampDigits = 18

var b64 = base64.StdEncoding.Strict()

// Errors returned by ParseSecret and Verifier.Verify. Returned errors wrap
// one of these (test with errors.Is) and may add detail such as a header name
// or a byte count, never a secret or a signature value.
var (
	// ErrInvalidSecret reports a secret string that cannot be used: empty,
	// not base64, or shorter than MinSecretLen once decoded. Verify also
	// returns it when a configured Secret is shorter than MinSecretLen.
	ErrInvalidSecret = errors.New("webhook: invalid secret")

	// ErrNoSecrets reports a Verifier with no secrets configured. It is a
	// configuration error on the receiving side, not a bad request.
	ErrNoSecrets = errors.New("webhook: verifier has no secrets")

	// ErrMissingHeaders reports that webhook-id, webhook-timestamp or
	// webhook-signature is absent or empty; the detail names the header.
	ErrMissingHeaders = errors.New("webhook: missing required header")

	// ErrMalformedHeader reports a webhook-timestamp that is not a plain
	// decimal number of unix seconds, or a webhook-id or webhook-timestamp
	// header given more than once.
	ErrMalformedHeader = errors.New("webhook: malformed header")

	// ErrStale reports a timestamp older than the Verifier's tolerance.
	ErrStale = errors.New("webhook: timestamp too old")

	// ErrFuture reports a timestamp further ahead of the Verifier's clock
	// than its tolerance.
	ErrFuture = errors.New("webhook: timestamp too far in the future")

	// ErrNoMatch reports that no "v1" entry of webhook-signature matches
	// any configured secret, including when there is no well-formed "v1"
	// entry at all.
	ErrNoMatch = errors.New("webhook: no matching signature")
)

// Secret is a symmetric signing key: the raw bytes, not their base64 form.
// Formatting a Secret with the fmt package prints a placeholder, never its
// bytes; use Encode for the serialized form.
type Secret []byte

// ParseSecret decodes a secret in the specification's serialization,
// "whsec_" followed by standard (padded) base64. Like the reference
// libraries it also accepts the base64 without the prefix. Surrounding white
// space is ignored. The decoded secret must be at least MinSecretLen bytes.
// Errors wrap ErrInvalidSecret and do not contain the input.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, SecretPrefix)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	key, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not valid standard base64 after the %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	if len(key) < MinSecretLen {
		return nil, fmt.Errorf("%w: decodes to %d bytes, at least %d required", ErrInvalidSecret, len(key), MinSecretLen)
	}
	return Secret(key), nil
}

// GenerateSecret returns a new random secret of 32 bytes read from
// crypto/rand.
func GenerateSecret() (Secret, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("webhook: generating secret: %w", err)
	}
	return Secret(key), nil
}

// Encode returns the secret in the specification's serialization,
// "whsec_<base64>", which ParseSecret reads back. The result is the secret
// itself: handle it as such.
func (s Secret) Encode() string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(s)
}

// Format implements fmt.Formatter so that a Secret printed with any verb
// (including %x and %#v) shows a placeholder instead of key material.
func (s Secret) Format(f fmt.State, verb rune) {
	io.WriteString(f, "webhook.Secret(redacted)")
}

// mac computes the raw HMAC-SHA256 of "{id}.{ts}.{body}" without building
// the concatenation.
func (s Secret) mac(id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, s)
	io.WriteString(m, id)
	m.Write([]byte{'.'})
	io.WriteString(m, ts)
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(make([]byte, 0, macLen))
}

// Sign returns the webhook-signature entry for a message:
// "v1," followed by the base64 HMAC-SHA256 of "{id}.{unix seconds}.{body}".
// ts is truncated to whole seconds. body must be the exact bytes sent.
//
// The specification asks that id not contain "." (nor be chosen by an
// untrusted party); Sign does not check this. Sign does not check the secret
// length either; secrets from ParseSecret or GenerateSecret are long enough.
func Sign(secret Secret, id string, ts time.Time, body []byte) string {
	sum := secret.mac(id, strconv.FormatInt(ts.Unix(), 10), body)
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(sum)
}

// Headers returns the three headers a sender sets on the POST carrying body:
// webhook-id, webhook-timestamp (ts in unix seconds) and webhook-signature
// (Sign with secret). To sign with several secrets during a rotation, join
// the Sign results with a space and set that as webhook-signature.
func Headers(secret Secret, id string, ts time.Time, body []byte) http.Header {
	h := make(http.Header, 3)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(secret, id, ts, body))
	return h
}

// Verifier checks incoming webhooks. The zero value of Tolerance and Now
// select the defaults; a Verifier is safe for concurrent use as long as its
// fields are not modified.
type Verifier struct {
	// Secrets are the accepted keys. A message is authentic if any v1
	// signature it carries was made with any of them, which allows rotating
	// secrets without downtime. Each must be at least MinSecretLen bytes.
	Secrets []Secret

	// Tolerance is how far webhook-timestamp may be from Now, in either
	// direction; a difference of exactly Tolerance is accepted.
	// DefaultTolerance (5 minutes) applies when it is zero or negative.
	Tolerance time.Duration

	// Now returns the current time; time.Now when nil. For tests.
	Now func() time.Time
}

// Verify authenticates a webhook from its request headers and the raw body
// (as received, before any JSON decoding). On success it returns the
// webhook-id, which the caller should use as an idempotency key to drop
// replays within the tolerance window. On failure id is empty and err wraps
// one of ErrMissingHeaders, ErrMalformedHeader, ErrStale, ErrFuture or
// ErrNoMatch (answer 401), or ErrNoSecrets or ErrInvalidSecret (the Verifier
// is misconfigured).
//
// webhook-signature is a space-separated list of "version,base64" entries;
// entries of other versions, and malformed ones, are skipped. If the header
// is repeated, all its values are considered. Signatures are compared in
// constant time.
func (v *Verifier) Verify(h http.Header, body []byte) (id string, err error) {
	if len(v.Secrets) == 0 {
		return "", ErrNoSecrets
	}
	for i, s := range v.Secrets {
		if len(s) < MinSecretLen {
			return "", fmt.Errorf("%w: verifier secret #%d is %d bytes, at least %d required", ErrInvalidSecret, i, len(s), MinSecretLen)
		}
	}

	id, err = single(h, HeaderID)
	if err != nil {
		return "", err
	}
	ts, err := single(h, HeaderTimestamp)
	if err != nil {
		return "", err
	}
	sigValues := h.Values(HeaderSignature)
	if strings.TrimSpace(strings.Join(sigValues, "")) == "" {
		return "", fmt.Errorf("%w: %s", ErrMissingHeaders, HeaderSignature)
	}

	unix, err := parseTimestamp(ts)
	if err != nil {
		return "", err
	}
	if err := v.checkTime(unix); err != nil {
		return "", err
	}

	// Decode every well-formed v1 entry once.
	var sigs [][]byte
	for _, val := range sigValues {
		for _, entry := range strings.Fields(val) {
			version, enc, ok := strings.Cut(entry, ",")
			if !ok || version != signatureVersion || len(enc) != encodedMACLen {
				continue
			}
			var buf [macLen + 2]byte // DecodedLen(44) == 33
			n, err := b64.Decode(buf[:], []byte(enc))
			if err != nil || n != macLen {
				continue
			}
			sigs = append(sigs, buf[:macLen:macLen])
		}
	}
	if len(sigs) == 0 {
		return "", fmt.Errorf("%w: no well-formed v1 signature", ErrNoMatch)
	}

	for _, s := range v.Secrets {
		want := s.mac(id, ts, body)
		for _, got := range sigs {
			if hmac.Equal(got, want) {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("%w: %d v1 signature(s) checked against %d secret(s)", ErrNoMatch, len(sigs), len(v.Secrets))
}

// single returns the only non-empty value of header name.
func single(h http.Header, name string) (string, error) {
	vals := h.Values(name)
	switch {
	case len(vals) == 0 || vals[0] == "":
		return "", fmt.Errorf("%w: %s", ErrMissingHeaders, name)
	case len(vals) > 1:
		return "", fmt.Errorf("%w: %s given %d times", ErrMalformedHeader, name, len(vals))
	}
	return vals[0], nil
}

// parseTimestamp accepts only plain decimal digits, so that the string that
// was signed and the number that is checked cannot disagree.
func parseTimestamp(ts string) (int64, error) {
	if len(ts) > maxTimestampDigits {
		return 0, fmt.Errorf("%w: %s too long", ErrMalformedHeader, HeaderTimestamp)
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return 0, fmt.Errorf("%w: %s is not unix seconds", ErrMalformedHeader, HeaderTimestamp)
		}
	}
	return strconv.ParseInt(ts, 10, 64) // cannot fail: at most 18 digits
}

func (v *Verifier) checkTime(unix int64) error {
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	age := now().Sub(time.Unix(unix, 0))
	switch {
	case age > tol:
		return fmt.Errorf("%w: %s old, tolerance %s", ErrStale, age.Round(time.Second), tol)
	case age < -tol:
		return fmt.Errorf("%w: %s ahead, tolerance %s", ErrFuture, (-age).Round(time.Second), tol)
	}
	return nil
}
