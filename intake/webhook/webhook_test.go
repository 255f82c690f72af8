package webhook

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Fixed vector from the reference libraries of the specification
// (github.com/standard-webhooks/standard-webhooks, libraries/go/webhook_test.go,
// TestWebhookSign; the same values appear in the other languages' tests).
const (
	vecSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecSecretRaw = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS        = 1614265330
	vecBody      = `{"test": 2432232314}`
	vecSig       = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// A well-formed v1 signature that matches nothing, also from the
	// reference tests.
	otherSig = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

var vecTime = time.Unix(vecTS, 0)

func mustSecret(t testing.TB, s string) Secret {
	t.Helper()
	k, err := ParseSecret(s)
	if err != nil {
		t.Fatalf("ParseSecret: %v", err)
	}
	return k
}

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func vecHeader() http.Header {
	h := http.Header{}
	h.Set("webhook-id", vecID)
	h.Set("webhook-timestamp", strconv.Itoa(vecTS))
	h.Set("webhook-signature", vecSig)
	return h
}

func vecVerifier(t testing.TB) *Verifier {
	return &Verifier{Secrets: []Secret{mustSecret(t, vecSecret)}, Now: fixedNow(vecTime)}
}

func TestSignVector(t *testing.T) {
	k := mustSecret(t, vecSecret)
	if got := Sign(k, vecID, vecTime, []byte(vecBody)); got != vecSig {
		t.Fatalf("Sign = %q, want %q", got, vecSig)
	}
	// Sub-second parts of the timestamp are dropped.
	if got := Sign(k, vecID, vecTime.Add(999*time.Millisecond), []byte(vecBody)); got != vecSig {
		t.Fatalf("Sign with fractional seconds = %q, want %q", got, vecSig)
	}
	h := Headers(k, vecID, vecTime, []byte(vecBody))
	want := vecHeader()
	for _, name := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
		if h.Get(name) != want.Get(name) {
			t.Errorf("Headers %s = %q, want %q", name, h.Get(name), want.Get(name))
		}
	}
	if len(h) != 3 {
		t.Errorf("Headers has %d entries, want 3", len(h))
	}
}

func TestVerifyVector(t *testing.T) {
	id, err := vecVerifier(t).Verify(vecHeader(), []byte(vecBody))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id != vecID {
		t.Fatalf("id = %q, want %q", id, vecID)
	}
	// Headers are case-insensitive through http.Header; a raw map with
	// canonical keys, as net/http builds it, works too.
	raw := http.Header{
		"Webhook-Id":        {vecID},
		"Webhook-Timestamp": {strconv.Itoa(vecTS)},
		"Webhook-Signature": {vecSig},
	}
	if _, err := vecVerifier(t).Verify(raw, []byte(vecBody)); err != nil {
		t.Fatalf("Verify canonical map: %v", err)
	}
}

func TestRoundTripGenerated(t *testing.T) {
	k, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	k2 := mustSecret(t, k.Encode())
	if !bytes.Equal(k, k2) {
		t.Fatal("Encode/ParseSecret round trip changed the secret")
	}
	now := time.Now()
	body := []byte(`{"type":"hr.offboard","data":{"id":"e1"}}`)
	h := Headers(k, "msg_1", now, body)
	id, err := (&Verifier{Secrets: []Secret{k2}}).Verify(h, body)
	if err != nil || id != "msg_1" {
		t.Fatalf("Verify = %q, %v", id, err)
	}
}

func TestParseSecret(t *testing.T) {
	withPrefix := mustSecret(t, vecSecret)
	noPrefix := mustSecret(t, vecSecretRaw)
	if !bytes.Equal(withPrefix, noPrefix) {
		t.Fatal("prefixed and unprefixed secrets differ")
	}
	if len(withPrefix) != 24 {
		t.Fatalf("vector secret is %d bytes, want 24", len(withPrefix))
	}
	if k := mustSecret(t, "  "+vecSecret+"\n"); !bytes.Equal(k, withPrefix) {
		t.Fatal("surrounding white space not ignored")
	}
	if got := mustSecret(t, withPrefix.Encode()); !bytes.Equal(got, withPrefix) || withPrefix.Encode() != vecSecret {
		t.Fatalf("Encode = %q", withPrefix.Encode())
	}

	short := base64.StdEncoding.EncodeToString(make([]byte, MinSecretLen-1))
	bad := map[string]string{
		"empty":            "",
		"prefix only":      "whsec_",
		"not base64":       "whsec_MfKQ9r8GKYqrTwjUPD8I!PZIo2LaLaSw",
		"unpadded":         "whsec_" + strings.TrimRight(base64.StdEncoding.EncodeToString(make([]byte, 25)), "="),
		"url alphabet":     "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))),
		"too short":        "whsec_" + short,
		"inner space":      "whsec_MfKQ9r8GKYqr TwjUPD8ILPZIo2LaLaSw",
		"asymmetric whsk_": "whsk_" + vecSecretRaw,
		"double prefix":    "whsec_whsec_" + vecSecretRaw,
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			k, err := ParseSecret(s)
			if err == nil {
				t.Fatalf("ParseSecret accepted it (%d bytes)", len(k))
			}
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("error %v does not wrap ErrInvalidSecret", err)
			}
			body := strings.TrimPrefix(s, "whsec_")
			if len(body) >= 8 && strings.Contains(err.Error(), body[:8]) {
				t.Fatalf("error %q echoes the secret", err)
			}
		})
	}
}

func TestSecretFormatRedacted(t *testing.T) {
	k := mustSecret(t, vecSecret)
	hexKey := fmt.Sprintf("%x", []byte(k))
	for _, verb := range []string{"%v", "%s", "%x", "%X", "%q", "%d", "%#v", "%+v"} {
		out := fmt.Sprintf(verb, k)
		if strings.Contains(out, vecSecretRaw) || strings.Contains(strings.ToLower(out), hexKey) || !strings.Contains(out, "redacted") {
			t.Errorf("%s formats secret as %q", verb, out)
		}
	}
	if out := fmt.Sprint([]Secret{k}); !strings.Contains(out, "redacted") {
		t.Errorf("slice of secrets formats as %q", out)
	}
}

func TestRotation(t *testing.T) {
	oldK := mustSecret(t, vecSecret)
	newK, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(vecBody)
	newSig := Sign(newK, vecID, vecTime, body)

	cases := []struct {
		name    string
		secrets []Secret
		sig     string
	}{
		{"old secret second", []Secret{newK, oldK}, vecSig},
		{"new secret first", []Secret{newK, oldK}, newSig},
		{"two sigs, first matches", []Secret{oldK}, vecSig + " " + newSig},
		{"two sigs, second matches", []Secret{newK}, vecSig + " " + newSig},
		{"unknown sig then match", []Secret{oldK}, otherSig + " " + vecSig},
		{"extra spaces", []Secret{oldK}, "  " + otherSig + "   " + vecSig + " "},
		{"reference multi-sig", []Secret{oldK}, strings.Join([]string{
			otherSig, "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", vecSig, otherSig,
		}, " ")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := vecHeader()
			h.Set(HeaderSignature, c.sig)
			v := &Verifier{Secrets: c.secrets, Now: fixedNow(vecTime)}
			if id, err := v.Verify(h, body); err != nil || id != vecID {
				t.Fatalf("Verify = %q, %v", id, err)
			}
		})
	}

	// Only the new secret is configured; the message carries only the old
	// signature.
	v := &Verifier{Secrets: []Secret{newK}, Now: fixedNow(vecTime)}
	if _, err := v.Verify(vecHeader(), body); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("retired secret: err = %v, want ErrNoMatch", err)
	}

	// Repeated signature headers are all considered.
	h := vecHeader()
	h.Set(HeaderSignature, otherSig)
	h.Add(HeaderSignature, vecSig)
	if _, err := vecVerifier(t).Verify(h, body); err != nil {
		t.Fatalf("repeated signature header: %v", err)
	}
}

func TestTampered(t *testing.T) {
	body := []byte(vecBody)
	cases := map[string]func(h http.Header, b []byte) (http.Header, []byte){
		"body changed": func(h http.Header, b []byte) (http.Header, []byte) {
			return h, []byte(`{"test": 2432232315}`)
		},
		"body re-serialized": func(h http.Header, b []byte) (http.Header, []byte) {
			return h, []byte(`{"test":2432232314}`)
		},
		"body trailing newline": func(h http.Header, b []byte) (http.Header, []byte) {
			return h, append(append([]byte{}, b...), '\n')
		},
		"body empty": func(h http.Header, b []byte) (http.Header, []byte) { return h, nil },
		"id changed": func(h http.Header, b []byte) (http.Header, []byte) {
			h.Set(HeaderID, vecID+"x")
			return h, b
		},
		"timestamp changed": func(h http.Header, b []byte) (http.Header, []byte) {
			h.Set(HeaderTimestamp, strconv.Itoa(vecTS+1))
			return h, b
		},
		"timestamp leading zero": func(h http.Header, b []byte) (http.Header, []byte) {
			h.Set(HeaderTimestamp, "0"+strconv.Itoa(vecTS))
			return h, b
		},
		"timestamp digit moved into id": func(h http.Header, b []byte) (http.Header, []byte) {
			h.Set(HeaderID, vecID+".1")
			h.Set(HeaderTimestamp, strconv.Itoa(vecTS)[1:])
			return h, b
		},
		"signature flipped bit": func(h http.Header, b []byte) (http.Header, []byte) {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vecSig, "v1,"))
			raw[0] ^= 1
			h.Set(HeaderSignature, "v1,"+base64.StdEncoding.EncodeToString(raw))
			return h, b
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			h, b := mod(vecHeader(), body)
			v := vecVerifier(t)
			if name == "timestamp digit moved into id" {
				v.Now = fixedNow(time.Unix(614265330, 0))
			}
			id, err := v.Verify(h, b)
			if !errors.Is(err, ErrNoMatch) {
				t.Fatalf("err = %v, want ErrNoMatch", err)
			}
			if id != "" {
				t.Fatalf("id = %q on failure", id)
			}
		})
	}
}

func TestTolerance(t *testing.T) {
	body := []byte(vecBody)
	cases := []struct {
		name string
		tol  time.Duration
		now  time.Time
		want error
	}{
		{"exact", 0, vecTime, nil},
		{"old at bound", 0, vecTime.Add(DefaultTolerance), nil},
		{"old past bound by 1s", 0, vecTime.Add(DefaultTolerance + time.Second), ErrStale},
		{"old past bound by 1ns", 0, vecTime.Add(DefaultTolerance + time.Nanosecond), ErrStale},
		{"far past", 0, vecTime.Add(24 * time.Hour), ErrStale},
		{"future at bound", 0, vecTime.Add(-DefaultTolerance), nil},
		{"future past bound by 1s", 0, vecTime.Add(-DefaultTolerance - time.Second), ErrFuture},
		{"future past bound by 1ns", 0, vecTime.Add(-DefaultTolerance - time.Nanosecond), ErrFuture},
		{"negative tolerance means default", -time.Second, vecTime.Add(DefaultTolerance), nil},
		{"custom tolerance at bound", 30 * time.Second, vecTime.Add(30 * time.Second), nil},
		{"custom tolerance stale", 30 * time.Second, vecTime.Add(31 * time.Second), ErrStale},
		{"custom tolerance future", 30 * time.Second, vecTime.Add(-31 * time.Second), ErrFuture},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := vecVerifier(t)
			v.Tolerance = c.tol
			v.Now = fixedNow(c.now)
			_, err := v.Verify(vecHeader(), body)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}

	// A stale message is refused even when its signature is valid, and
	// the timestamp check runs with the real clock by default.
	v := &Verifier{Secrets: []Secret{mustSecret(t, vecSecret)}}
	if _, err := v.Verify(vecHeader(), body); !errors.Is(err, ErrStale) {
		t.Fatalf("real clock: err = %v, want ErrStale", err)
	}
}

func TestMissingHeaders(t *testing.T) {
	for _, name := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
		for _, how := range []string{"absent", "empty"} {
			t.Run(name+" "+how, func(t *testing.T) {
				h := vecHeader()
				if how == "absent" {
					h.Del(name)
				} else {
					h.Set(name, "")
				}
				id, err := vecVerifier(t).Verify(h, []byte(vecBody))
				if !errors.Is(err, ErrMissingHeaders) {
					t.Fatalf("err = %v, want ErrMissingHeaders", err)
				}
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name %s", err, name)
				}
				if id != "" {
					t.Fatalf("id = %q on failure", id)
				}
			})
		}
	}
	t.Run("signature blank", func(t *testing.T) {
		h := vecHeader()
		h.Set(HeaderSignature, "   ")
		if _, err := vecVerifier(t).Verify(h, []byte(vecBody)); !errors.Is(err, ErrMissingHeaders) {
			t.Fatalf("err = %v, want ErrMissingHeaders", err)
		}
	})
	t.Run("nil header", func(t *testing.T) {
		if _, err := vecVerifier(t).Verify(nil, []byte(vecBody)); !errors.Is(err, ErrMissingHeaders) {
			t.Fatalf("err = %v, want ErrMissingHeaders", err)
		}
	})
}

func TestMalformedTimestamp(t *testing.T) {
	for _, ts := range []string{"abc", "1614265330.5", "+1614265330", "-1614265330", " 1614265330", "1614265330s", "1e9", "0x603814f2", strings.Repeat("9", 19), "2021-02-25T15:02:10Z"} {
		t.Run(ts, func(t *testing.T) {
			h := vecHeader()
			h.Set(HeaderTimestamp, ts)
			if _, err := vecVerifier(t).Verify(h, []byte(vecBody)); !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("err = %v, want ErrMalformedHeader", err)
			}
		})
	}
	for _, name := range []string{HeaderID, HeaderTimestamp} {
		t.Run(name+" repeated", func(t *testing.T) {
			h := vecHeader()
			h.Add(name, h.Get(name))
			if _, err := vecVerifier(t).Verify(h, []byte(vecBody)); !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("err = %v, want ErrMalformedHeader", err)
			}
		})
	}
}

func TestMalformedSignatureEntries(t *testing.T) {
	enc := strings.TrimPrefix(vecSig, "v1,")
	raw, _ := base64.StdEncoding.DecodeString(enc)
	entries := []string{
		"v1",
		"v1,",
		",",
		enc,                       // no version
		"v1" + enc,                // no comma
		"V1," + enc,               // version is case-sensitive
		"v1a," + enc,              // asymmetric scheme, not supported
		"v2," + enc,               // other version: ignored even though the MAC matches
		"v1,," + enc,              // extra comma
		"v1," + enc + ",",         // trailing comma
		"v1," + enc[:43],          // missing padding
		"v1," + enc[:40] + "====", // bad padding
		"v1," + strings.NewReplacer("+", "-", "/", "_").Replace(enc), // URL alphabet
		"v1," + base64.StdEncoding.EncodeToString(raw[:31]),          // truncated MAC
		"v1," + base64.StdEncoding.EncodeToString(append(raw, 0)),    // long MAC
		"v1," + base64.StdEncoding.EncodeToString([]byte(vecSig)),    // garbage of other length
		"v1,!!!!" + enc[4:],
		"v1," + enc[:42] + "F=", // non-canonical trailing bits (strict decoding)
		"v1,\x00" + enc[1:],
	}
	for _, e := range entries {
		t.Run(fmt.Sprintf("%q", e), func(t *testing.T) {
			h := vecHeader()
			h.Set(HeaderSignature, e)
			_, err := vecVerifier(t).Verify(h, []byte(vecBody))
			if !errors.Is(err, ErrNoMatch) {
				t.Fatalf("err = %v, want ErrNoMatch", err)
			}
			// A malformed entry does not hide a valid one.
			h.Set(HeaderSignature, e+" "+vecSig)
			if _, err := vecVerifier(t).Verify(h, []byte(vecBody)); err != nil {
				t.Fatalf("with valid entry after it: %v", err)
			}
			h.Set(HeaderSignature, vecSig+" "+e)
			if _, err := vecVerifier(t).Verify(h, []byte(vecBody)); err != nil {
				t.Fatalf("with valid entry before it: %v", err)
			}
		})
	}
}

func TestV2Ignored(t *testing.T) {
	// A "v2," entry carrying the correct MAC is not accepted as v1...
	h := vecHeader()
	h.Set(HeaderSignature, "v2,"+strings.TrimPrefix(vecSig, "v1,"))
	if _, err := vecVerifier(t).Verify(h, []byte(vecBody)); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("v2 only: err = %v, want ErrNoMatch", err)
	}
	// ...and does not prevent a v1 entry from matching.
	h.Set(HeaderSignature, "v2,whatever v1a,"+strings.Repeat("A", 88)+" "+vecSig)
	if _, err := vecVerifier(t).Verify(h, []byte(vecBody)); err != nil {
		t.Fatalf("v2 then v1: %v", err)
	}
}

func TestMisconfiguredVerifier(t *testing.T) {
	if _, err := (&Verifier{Now: fixedNow(vecTime)}).Verify(vecHeader(), []byte(vecBody)); !errors.Is(err, ErrNoSecrets) {
		t.Fatalf("no secrets: err = %v, want ErrNoSecrets", err)
	}
	// An empty key would let anyone sign; it is refused, not skipped.
	empty := Secret{}
	h := Headers(empty, vecID, vecTime, []byte(vecBody))
	v := &Verifier{Secrets: []Secret{mustSecret(t, vecSecret), empty}, Now: fixedNow(vecTime)}
	if _, err := v.Verify(h, []byte(vecBody)); !errors.Is(err, ErrInvalidSecret) {
		t.Fatalf("empty secret: err = %v, want ErrInvalidSecret", err)
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	k := mustSecret(t, vecSecret)
	enc := strings.TrimPrefix(vecSig, "v1,")
	other := strings.TrimPrefix(otherSig, "v1,")
	check := func(err error) {
		t.Helper()
		if err == nil {
			t.Fatal("expected an error")
		}
		msg := err.Error()
		for _, s := range []string{vecSecretRaw, enc, other, enc[:12], other[:12], fmt.Sprintf("%x", []byte(k))[:16]} {
			if strings.Contains(msg, s) {
				t.Fatalf("error %q contains secret or signature material", msg)
			}
		}
	}
	v := vecVerifier(t)
	h := vecHeader()
	h.Set(HeaderSignature, otherSig)
	_, err := v.Verify(h, []byte(vecBody))
	check(err)
	_, err = v.Verify(vecHeader(), []byte("tampered"))
	check(err)
	v.Now = fixedNow(vecTime.Add(time.Hour))
	_, err = v.Verify(vecHeader(), []byte(vecBody))
	check(err)
	_, err = ParseSecret(vecSecret[:20] + "!")
	check(err)
}

func BenchmarkVerify(b *testing.B) {
	k := mustSecret(b, vecSecret)
	body := bytes.Repeat([]byte("x"), 1024)
	h := Headers(k, vecID, vecTime, body)
	v := &Verifier{Secrets: []Secret{k}, Now: fixedNow(vecTime)}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}
