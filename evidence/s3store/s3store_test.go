package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/offboard/offboard/evidence/s3store"
)

const (
	lockedBucket   = "offboard-evidence"
	unlockedBucket = "offboard-plain"
	retention      = 90 * 24 * time.Hour
)

// syncBuffer collects moto's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startMoto runs a moto S3 server on a free loopback port for the test and
// returns its endpoint. Without moto_server the test fails: this package's
// tests are against a real (local) S3, not a fake.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server not found on PATH (%v): the s3store tests run against a local S3; install it with: pip install 'moto[server]'", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", port)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel() // kills the process
		<-exited
	})

	endpoint := "http://127.0.0.1:" + port
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := hc.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return endpoint
		}
		select {
		case err := <-exited:
			t.Fatalf("moto_server exited before answering: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 15s\n%s", endpoint, out.String())
		}
	}
}

func awsConfig() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	}
}

// rawClient is an S3 client that bypasses the store, to set the scene and
// to attack what the store wrote.
func rawClient(endpoint string) *s3.Client {
	return s3.NewFromConfig(awsConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

func newStore(t *testing.T, endpoint, bucket, prefix string) *s3store.Store {
	t.Helper()
	s, err := s3store.New(t.Context(), s3store.Config{
		Bucket:       bucket,
		Prefix:       prefix,
		Retention:    retention,
		Endpoint:     endpoint,
		UsePathStyle: true,
	}, awsConfig())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func put(t *testing.T, s *s3store.Store, bundle, name string, content []byte) {
	t.Helper()
	if err := s.Put(t.Context(), bundle, name, bytes.NewReader(content)); err != nil {
		t.Fatalf("Put %s/%s: %v", bundle, name, err)
	}
}

func get(t *testing.T, s *s3store.Store, bundle, name string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), bundle, name)
	if err != nil {
		t.Fatalf("Get %s/%s: %v", bundle, name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bundle, name, err)
	}
	return b
}

// versions lists every version of key (delete markers apart).
func versions(t *testing.T, c *s3.Client, bucket, key string) []types.ObjectVersion {
	t.Helper()
	out, err := c.ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatalf("ListObjectVersions %s: %v", key, err)
	}
	var vs []types.ObjectVersion
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			vs = append(vs, v)
		}
	}
	return vs
}

func onlyVersion(t *testing.T, c *s3.Client, key string) string {
	t.Helper()
	vs := versions(t, c, lockedBucket, key)
	if len(vs) != 1 {
		t.Fatalf("%s has %d versions, want 1", key, len(vs))
	}
	return aws.ToString(vs[0].VersionId)
}

func TestStoreOnMoto(t *testing.T) {
	endpoint := startMoto(t)
	raw := rawClient(endpoint)
	ctx := t.Context()

	// An Object Lock bucket with a default retention (GOVERNANCE, one
	// day) that the store's own COMPLIANCE retention must override, and a
	// bucket without Object Lock.
	if _, err := raw.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(lockedBucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(lockedBucket),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{
			ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule:              &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(unlockedBucket)}); err != nil {
		t.Fatal(err)
	}

	s := newStore(t, endpoint, lockedBucket, "")

	t.Run("Check accepts an Object Lock bucket", func(t *testing.T) {
		if err := s.Check(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Check refuses a bucket without Object Lock", func(t *testing.T) {
		err := newStore(t, endpoint, unlockedBucket, "").Check(t.Context())
		if !errors.Is(err, s3store.ErrNoObjectLock) || !strings.Contains(err.Error(), unlockedBucket) {
			t.Fatalf("Check = %v, want ErrNoObjectLock naming the bucket", err)
		}
		t.Log(err)
	})

	t.Run("Check refuses a missing bucket", func(t *testing.T) {
		err := newStore(t, endpoint, "no-such-bucket", "").Check(t.Context())
		if err == nil || errors.Is(err, s3store.ErrNoObjectLock) || errCode(err) != "NoSuchBucket" {
			t.Fatalf("Check = %v, want NoSuchBucket", err)
		}
	})

	t.Run("Put refused on a bucket without Object Lock", func(t *testing.T) {
		err := newStore(t, endpoint, unlockedBucket, "").Put(t.Context(), "b1", "x", strings.NewReader("x"))
		if err == nil {
			t.Fatal("Put into a bucket without Object Lock succeeded")
		}
		t.Log(err)
	})

	content := make([]byte, 300<<10+7)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(rng.Uint32())
	}

	t.Run("Put, Get byte-exact, List sorted", func(t *testing.T) {
		before := time.Now()
		put(t, s, "case-1", "events.jsonl", content)
		after := time.Now()
		put(t, s, "case-1", "manifest.json", []byte(`{"v":1}`))
		put(t, s, "case-1", "a.sig", []byte{})
		put(t, s, "case-2", "other", []byte("elsewhere"))

		if got := get(t, s, "case-1", "events.jsonl"); !bytes.Equal(got, content) {
			t.Fatalf("Get returned %d bytes, not the %d put", len(got), len(content))
		}
		if got := get(t, s, "case-1", "a.sig"); len(got) != 0 {
			t.Fatalf("empty file read back as %q", got)
		}
		names, err := s.List(t.Context(), "case-1")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"a.sig", "events.jsonl", "manifest.json"}; !slices.Equal(names, want) {
			t.Fatalf("List = %q, want %q", names, want)
		}

		// What was stored: COMPLIANCE until now+retention (not the bucket's
		// GOVERNANCE default), with the SHA-256 checksum.
		head, err := raw.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String("case-1/events.jsonl"), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		if head.ObjectLockMode != types.ObjectLockModeCompliance {
			t.Errorf("ObjectLockMode = %q, want COMPLIANCE", head.ObjectLockMode)
		}
		until := aws.ToTime(head.ObjectLockRetainUntilDate)
		if lo, hi := before.Add(retention).Add(-time.Second), after.Add(retention).Add(time.Second); until.Before(lo) || until.After(hi) {
			t.Errorf("RetainUntilDate = %v, want between %v and %v", until, lo, hi)
		}
		if aws.ToString(head.ChecksumSHA256) == "" {
			t.Errorf("no SHA-256 checksum stored")
		}
		// (Not GetObjectRetention: moto 5.x does not implement it, and
		// answers GET ?retention with the object's content.)
	})

	t.Run("a second Put of a name is refused and changes nothing", func(t *testing.T) {
		err := s.Put(t.Context(), "case-1", "events.jsonl", strings.NewReader("forged"))
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("second Put = %v, want fs.ErrExist", err)
		}
		t.Log(err)
		if got := get(t, s, "case-1", "events.jsonl"); !bytes.Equal(got, content) {
			t.Fatal("content changed after a refused Put")
		}
		// Refused by S3 (If-None-Match), not overwritten as a new version.
		onlyVersion(t, raw, "case-1/events.jsonl")
	})

	t.Run("deleting the locked version is refused", func(t *testing.T) {
		key := "case-1/events.jsonl"
		v := onlyVersion(t, raw, key)
		_, err := raw.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String(key), VersionId: aws.String(v)})
		if errCode(err) != "AccessDenied" {
			t.Fatalf("DeleteObject of the locked version = %v, want AccessDenied", err)
		}
		// Bypassing governance does nothing to COMPLIANCE.
		_, err = raw.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String(key), VersionId: aws.String(v), BypassGovernanceRetention: aws.Bool(true)})
		if errCode(err) != "AccessDenied" {
			t.Fatalf("DeleteObject with BypassGovernanceRetention = %v, want AccessDenied", err)
		}
		// Nor does a batch delete.
		out, err := raw.DeleteObjects(t.Context(), &s3.DeleteObjectsInput{
			Bucket:                    aws.String(lockedBucket),
			Delete:                    &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String(key), VersionId: aws.String(v)}}},
			BypassGovernanceRetention: aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Deleted) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
			t.Fatalf("DeleteObjects: deleted %d, errors %+v; want AccessDenied", len(out.Deleted), out.Errors)
		}
		if got := get(t, s, "case-1", "events.jsonl"); !bytes.Equal(got, content) {
			t.Fatal("locked file no longer reads back")
		}
		if vs := versions(t, raw, lockedBucket, key); len(vs) != 1 || aws.ToString(vs[0].VersionId) != v {
			t.Fatalf("versions after refused deletes: %+v", vs)
		}
	})

	t.Run("a delete marker hides a file but the locked version stays", func(t *testing.T) {
		put(t, s, "case-3", "f", []byte("kept"))
		key := "case-3/f"
		v := onlyVersion(t, raw, key)
		del, err := raw.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("plain DeleteObject (delete marker) = %v", err)
		}
		if !aws.ToBool(del.DeleteMarker) {
			t.Fatal("plain DeleteObject did not make a delete marker")
		}
		if _, err := s.Get(t.Context(), "case-3", "f"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Get behind a delete marker = %v, want fs.ErrNotExist", err)
		}
		old, err := raw.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String(key), VersionId: aws.String(v)})
		if err != nil {
			t.Fatalf("the locked version is gone: %v", err)
		}
		b, _ := io.ReadAll(old.Body)
		old.Body.Close()
		if string(b) != "kept" {
			t.Fatalf("locked version reads %q", b)
		}
		// Removing the marker brings the file back.
		if _, err := raw.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String(key), VersionId: del.VersionId}); err != nil {
			t.Fatalf("delete the delete marker: %v", err)
		}
		if got := get(t, s, "case-3", "f"); string(got) != "kept" {
			t.Fatalf("after removing the marker Get = %q", got)
		}
	})

	// Real S3 refuses, for a COMPLIANCE version, a retention shortened or
	// turned into GOVERNANCE (AccessDenied). moto 5.x does not: its
	// PutObjectRetention overwrites mode and date unchecked. The test tries
	// it on a file of its own and says which it saw.
	t.Run("COMPLIANCE retention cannot be shortened or made GOVERNANCE", func(t *testing.T) {
		put(t, s, "case-4", "f", []byte("x"))
		key := "case-4/f"
		v := onlyVersion(t, raw, key)
		attempts := map[string]*types.ObjectLockRetention{
			"shorten to one hour":  {Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(time.Now().Add(time.Hour))},
			"switch to GOVERNANCE": {Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(retention))},
		}
		var accepted []string
		for what, r := range attempts {
			_, err := raw.PutObjectRetention(t.Context(), &s3.PutObjectRetentionInput{
				Bucket: aws.String(lockedBucket), Key: aws.String(key), VersionId: aws.String(v),
				Retention: r, BypassGovernanceRetention: aws.Bool(true),
				// moto wants x-amz-sdk-checksum-algorithm on every PUT
				// to an object of a bucket with a default retention.
				ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
			})
			switch {
			case err == nil:
				accepted = append(accepted, what)
			case errCode(err) != "AccessDenied":
				t.Errorf("%s: %v, want AccessDenied", what, err)
			}
		}
		if len(accepted) > 0 {
			slices.Sort(accepted)
			t.Skipf("this S3 (moto) does not enforce COMPLIANCE on PutObjectRetention: it accepted %s; real S3 refuses with AccessDenied", strings.Join(accepted, " and "))
		}
	})

	// A checksum that does not match the content is refused by real S3
	// (BadDigest) at the PUT; moto 5.x stores it unchecked. Either way
	// the store must not hand out the content as good: Get's reader fails
	// when the content does not match the stored SHA-256.
	t.Run("content not matching its checksum is not read as good", func(t *testing.T) {
		_, err := raw.PutObject(t.Context(), &s3.PutObjectInput{
			Bucket: aws.String(lockedBucket), Key: aws.String("case-6/tampered"), Body: strings.NewReader("hello"),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
			ChecksumSHA256:    aws.String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
		})
		if err != nil {
			t.Logf("PUT with a wrong checksum refused: %v", err)
			return
		}
		t.Log("this S3 (moto) stored an object whose SHA-256 checksum does not match its content; real S3 refuses it (BadDigest)")
		rc, err := s.Get(t.Context(), "case-6", "tampered")
		if err != nil {
			return
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err == nil {
			t.Fatalf("Get read %q without error though it does not match its checksum", b)
		}
		if !strings.Contains(err.Error(), "checksum did not match") {
			t.Fatalf("read error = %v, want a checksum mismatch", err)
		}
	})

	t.Run("Get and List of what is not there", func(t *testing.T) {
		if _, err := s.Get(t.Context(), "case-1", "missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Get missing = %v, want fs.ErrNotExist", err)
		}
		if names, err := s.List(t.Context(), "no-case"); err != nil || len(names) != 0 {
			t.Fatalf("List of an empty bundle = %q, %v; want none and no error (as evidence.Dir)", names, err)
		}
	})

	t.Run("List shows only the bundle's own files", func(t *testing.T) {
		put(t, s, "case-5", "b", []byte("b"))
		put(t, s, "case-50", "a", []byte("a"))
		for _, k := range []string{"case-5/sub/x", "case-5/..bad"} {
			if _, err := raw.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String(k), Body: strings.NewReader("x"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
				t.Fatal(err)
			}
		}
		names, err := s.List(t.Context(), "case-5")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, []string{"b"}) {
			t.Fatalf("List = %q, want [b]", names)
		}
	})

	t.Run("Prefix", func(t *testing.T) {
		ps := newStore(t, endpoint, lockedBucket, "org-1/evidence/")
		put(t, ps, "case-1", "events.jsonl", []byte("prefixed"))
		if _, err := raw.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(lockedBucket), Key: aws.String("org-1/evidence/case-1/events.jsonl")}); err != nil {
			t.Fatalf("prefixed key: %v", err)
		}
		if got := get(t, ps, "case-1", "events.jsonl"); string(got) != "prefixed" {
			t.Fatalf("Get = %q", got)
		}
		names, err := ps.List(t.Context(), "case-1")
		if err != nil || !slices.Equal(names, []string{"events.jsonl"}) {
			t.Fatalf("List = %q, %v", names, err)
		}
		// The unprefixed store's case-1 is another bundle.
		if got := get(t, s, "case-1", "events.jsonl"); !bytes.Equal(got, content) {
			t.Fatal("prefixed Put touched the unprefixed bundle")
		}
	})
}

func TestNewRefuses(t *testing.T) {
	ok := s3store.Config{Bucket: "offboard-evidence", Retention: time.Hour, Region: "eu-west-1"}
	cases := map[string]struct {
		edit func(*s3store.Config)
		want string
	}{
		"no bucket":         {func(c *s3store.Config) { c.Bucket = "" }, "3 to 63"},
		"bad bucket":        {func(c *s3store.Config) { c.Bucket = "evidence_bucket" }, "may hold only"},
		"no retention":      {func(c *s3store.Config) { c.Retention = 0 }, "retention must be > 0"},
		"negative":          {func(c *s3store.Config) { c.Retention = -time.Hour }, "retention must be > 0"},
		"prefix no slash":   {func(c *s3store.Config) { c.Prefix = "evidence" }, `must end in "/"`},
		"prefix dotdot":     {func(c *s3store.Config) { c.Prefix = "a/../" }, `segment ".." is not a valid name`},
		"prefix empty seg":  {func(c *s3store.Config) { c.Prefix = "a//" }, `segment "" is not a valid name`},
		"prefix leading /":  {func(c *s3store.Config) { c.Prefix = "/a/" }, `segment "" is not a valid name`},
		"http not loopback": {func(c *s3store.Config) { c.Endpoint = "http://s3.example.com" }, "must use https"},
		"endpoint relative": {func(c *s3store.Config) { c.Endpoint = "localhost:9000" }, "not an absolute URL"},
		"no region":         {func(c *s3store.Config) { c.Region = "" }, "no region"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			_, err := s3store.New(t.Context(), cfg, aws.Config{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := s3store.New(t.Context(), ok, aws.Config{}); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	withPrefix := ok
	withPrefix.Prefix, withPrefix.Endpoint = "org-1/evidence/", "http://127.0.0.1:9000"
	if _, err := s3store.New(t.Context(), withPrefix, aws.Config{}); err != nil {
		t.Fatalf("New(prefix, loopback endpoint) = %v", err)
	}
}

// Unsafe names (not evidence.ValidName) are refused before anything is
// sent: the endpoint here answers nothing.
func TestNamesRefused(t *testing.T) {
	s, err := s3store.New(t.Context(), s3store.Config{Bucket: "offboard-evidence", Retention: time.Hour, Region: "us-east-1", Endpoint: "http://127.0.0.1:1", UsePathStyle: true}, awsConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"", ".", "..", "a/b", "../x", ".hidden", "a b", "é", `a\b`, "a\x00", strings.Repeat("a", 129)} {
		if err := s.Put(t.Context(), "case-1", n, strings.NewReader("x")); err == nil || !strings.HasPrefix(err.Error(), "s3store: invalid file name") {
			t.Errorf("Put name %q = %v, want a name error", n, err)
		}
		if err := s.Put(t.Context(), n, "f", strings.NewReader("x")); err == nil || !strings.HasPrefix(err.Error(), "s3store: invalid bundle name") {
			t.Errorf("Put bundle %q = %v, want a bundle error", n, err)
		}
		if _, err := s.Get(t.Context(), "case-1", n); err == nil || !strings.HasPrefix(err.Error(), "s3store: invalid file name") {
			t.Errorf("Get name %q = %v, want a name error", n, err)
		}
		if _, err := s.List(t.Context(), n); err == nil || !strings.HasPrefix(err.Error(), "s3store: invalid bundle name") {
			t.Errorf("List bundle %q = %v, want a bundle error", n, err)
		}
	}
	for _, n := range []string{"a", "events.jsonl", "manifest.sig", "A-1_b.2", strings.Repeat("a", 128)} {
		if err := s.Put(t.Context(), "case-1", n, strings.NewReader("x")); err == nil || strings.HasPrefix(err.Error(), "s3store: invalid") {
			t.Errorf("Put name %q = %v, want it accepted (and the send to fail)", n, err)
		}
	}
}
