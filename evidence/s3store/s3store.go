// Package s3store is an evidence.Store on Amazon S3 with Object Lock: every
// file of a bundle is written once, as an object version locked in
// COMPLIANCE mode until now plus the configured retention. Until then no
// one, the bucket's owner and the account's root user included, can delete
// that version or shorten its retention.
//
// The bucket must have been created with Object Lock enabled (which also
// turns versioning on, for good); Check verifies it. A default retention
// rule on the bucket is not needed: every Put sets its own.
//
// Object Lock protects object versions, not keys, and Get reads a key's
// current version. Whoever may write to the bucket directly can still hide
// a file: a plain DeleteObject (without a version ID) is allowed and only
// adds a delete marker, after which the file reads as missing, and a PUT
// without If-None-Match (or one after a delete marker) adds a new current
// version. Either way the locked version stays in the bucket, readable by
// its version ID, and a bundle's signed manifest shows the substitution.
// Restrict s3:PutObject and s3:DeleteObject on the bucket to narrow this.
package s3store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/offboard/offboard/evidence"
)

// ErrNoObjectLock is returned (wrapped) by Check when the bucket does not
// have Object Lock enabled.
var ErrNoObjectLock = errors.New("bucket does not have S3 Object Lock enabled")

// maxObjectSize is the largest object a single PutObject may write (5 GiB).
const maxObjectSize = 5 << 30

// Config says where the store keeps bundles and for how long they are
// locked.
type Config struct {
	// Bucket is the S3 bucket. It must have Object Lock enabled.
	Bucket string
	// Prefix, optional, is put before every key: a file is stored at
	// <Prefix><bundle>/<name>. When set it must end in "/" and each of its
	// segments must be an evidence.ValidName.
	Prefix string
	// Retention is how long each file is locked, in COMPLIANCE mode, from
	// the moment it is written. Required, > 0.
	Retention time.Duration
	// Region, when set, overrides the region of the aws.Config given to
	// New. One of the two must name a region.
	Region string
	// Endpoint, optional, is the base URL of an S3-compatible endpoint
	// (tests, moto). It must be https, or http on 127.0.0.1, localhost or
	// ::1.
	Endpoint string
	// UsePathStyle addresses the bucket in the path (endpoint/bucket/key)
	// rather than in the host name (bucket.endpoint/key), as local S3
	// emulators usually need.
	UsePathStyle bool
}

// Store is an evidence.Store on S3 with Object Lock in COMPLIANCE mode.
type Store struct {
	cfg Config
	c   *s3.Client
}

var _ evidence.Store = (*Store)(nil)

// New returns a store for cfg, with the credentials, HTTP client and
// retry settings of awsCfg. It does not contact S3: call Check before
// trusting the bucket with evidence.
func New(_ context.Context, cfg Config, awsCfg aws.Config) (*Store, error) {
	if err := validBucket(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	if cfg.Prefix != "" {
		if !strings.HasSuffix(cfg.Prefix, "/") {
			return nil, fmt.Errorf("s3store: prefix %q must end in \"/\"", cfg.Prefix)
		}
		for _, seg := range strings.Split(strings.TrimSuffix(cfg.Prefix, "/"), "/") {
			if !evidence.ValidName(seg) {
				return nil, fmt.Errorf("s3store: prefix %q: segment %q is not a valid name (evidence.ValidName)", cfg.Prefix, seg)
			}
		}
	}
	if cfg.Retention <= 0 {
		return nil, fmt.Errorf("s3store: retention must be > 0 (got %v)", cfg.Retention)
	}
	if cfg.Endpoint != "" {
		if err := checkEndpoint(cfg.Endpoint); err != nil {
			return nil, fmt.Errorf("s3store: %w", err)
		}
	}
	region := cfg.Region
	if region == "" {
		region = awsCfg.Region
	}
	if region == "" {
		return nil, errors.New("s3store: no region: set Config.Region or the aws.Config's Region")
	}
	c := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.Region = region
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(strings.TrimSuffix(cfg.Endpoint, "/"))
		}
		o.UsePathStyle = cfg.UsePathStyle
	})
	return &Store{cfg: cfg, c: c}, nil
}

// Check verifies that the bucket exists, can be read, and has Object Lock
// enabled. It refuses, with an error wrapping ErrNoObjectLock, a bucket
// without it: there a "locked" Put would be refused anyway, and evidence
// could be deleted.
func (s *Store) Check(ctx context.Context) error {
	out, err := s.c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(s.cfg.Bucket)})
	if err != nil {
		if code(err) == "ObjectLockConfigurationNotFoundError" {
			return fmt.Errorf("s3store: bucket %s: %w (evidence goes only to a bucket created with Object Lock enabled)", s.cfg.Bucket, ErrNoObjectLock)
		}
		return fmt.Errorf("s3store: bucket %s: read Object Lock configuration: %w", s.cfg.Bucket, err)
	}
	if out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return fmt.Errorf("s3store: bucket %s: %w", s.cfg.Bucket, ErrNoObjectLock)
	}
	return nil
}

// Put writes one file of a bundle at <Prefix><bundle>/<name>, locked in
// COMPLIANCE mode until now plus the retention, with its SHA-256 checksum
// (which S3 verifies, and which Object Lock requires of a PUT). The bundle
// and the name must be evidence.ValidName names, as for a local store, so
// a key is always one bundle segment and one name segment.
//
// Put never replaces a file: the PUT is conditional (If-None-Match: *), so
// S3 refuses it when the key exists, and Put returns an error wrapping
// fs.ErrExist. (On a versioned bucket, as Object Lock buckets are, an
// unconditional PUT would succeed and make a new current version, hiding
// the first.)
//
// The content is spooled to a temporary file first, to know its length and
// checksum before sending.
func (s *Store) Put(ctx context.Context, bundle, name string, r io.Reader) error {
	key, err := s.key(bundle, name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp("", "s3store-*")
	if err != nil {
		return fmt.Errorf("s3store: put %s/%s: %w", bundle, name, err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, maxObjectSize+1))
	if err != nil {
		return fmt.Errorf("s3store: put %s/%s: read content: %w", bundle, name, err)
	}
	if n > maxObjectSize {
		return fmt.Errorf("s3store: put %s/%s: content is larger than 5 GiB, the most one PUT can write", bundle, name)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("s3store: put %s/%s: %w", bundle, name, err)
	}
	until := time.Now().Add(s.cfg.Retention).UTC()
	_, err = s.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:                    aws.String(s.cfg.Bucket),
		Key:                       aws.String(key),
		Body:                      f,
		ContentLength:             aws.Int64(n),
		ChecksumAlgorithm:         types.ChecksumAlgorithmSha256,
		ChecksumSHA256:            aws.String(base64.StdEncoding.EncodeToString(h.Sum(nil))),
		ObjectLockMode:            types.ObjectLockModeCompliance,
		ObjectLockRetainUntilDate: aws.Time(until),
		IfNoneMatch:               aws.String("*"),
	})
	if err != nil {
		switch {
		case status(err) == http.StatusPreconditionFailed:
			return fmt.Errorf("s3store: put %s/%s: %w (a stored file is never replaced)", bundle, name, fs.ErrExist)
		case code(err) == "ConditionalRequestConflict":
			return fmt.Errorf("s3store: put %s/%s: another write of the same file is in progress: %w", bundle, name, err)
		}
		return fmt.Errorf("s3store: put %s/%s: %w", bundle, name, err)
	}
	return nil
}

// Get reads one file of a bundle. The caller closes it. S3 returns the
// stored SHA-256 checksum and the SDK verifies the content against it as
// it is read. A missing file is an error wrapping fs.ErrNotExist.
func (s *Store) Get(ctx context.Context, bundle, name string) (io.ReadCloser, error) {
	key, err := s.key(bundle, name)
	if err != nil {
		return nil, err
	}
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{
		Bucket:       aws.String(s.cfg.Bucket),
		Key:          aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("s3store: get %s/%s: %w", bundle, name, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("s3store: get %s/%s: %w", bundle, name, err)
	}
	return out.Body, nil
}

// List lists a bundle's files, sorted: only keys directly under the
// bundle whose names are evidence.ValidName names, so only what Put could
// have written. A bundle with no file has none, and no error.
func (s *Store) List(ctx context.Context, bundle string) ([]string, error) {
	if !evidence.ValidName(bundle) {
		return nil, fmt.Errorf("s3store: invalid bundle name %q", bundle)
	}
	prefix := s.cfg.Prefix + bundle + "/"
	var names []string
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{
		Bucket:    aws.String(s.cfg.Bucket),
		Prefix:    aws.String(prefix),
		Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3store: list %s: %w", bundle, err)
		}
		for _, o := range page.Contents {
			if name := strings.TrimPrefix(aws.ToString(o.Key), prefix); evidence.ValidName(name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// key is where a bundle's file is stored.
func (s *Store) key(bundle, name string) (string, error) {
	if !evidence.ValidName(bundle) {
		return "", fmt.Errorf("s3store: invalid bundle name %q", bundle)
	}
	if !evidence.ValidName(name) {
		return "", fmt.Errorf("s3store: invalid file name %q", name)
	}
	return s.cfg.Prefix + bundle + "/" + name, nil
}

// validBucket accepts S3's general purpose bucket names: 3 to 63
// characters of a-z, 0-9, '.' and '-', starting and ending with a letter
// or digit.
func validBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		lower := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if (i == 0 || i == len(b)-1) && !lower {
			return fmt.Errorf("bucket name %q must start and end with a lowercase letter or a digit", b)
		}
		if !lower && c != '.' && c != '-' {
			return fmt.Errorf("bucket name %q may hold only a-z, 0-9, '.' and '-'", b)
		}
	}
	return nil
}

// checkEndpoint accepts an https base URL, or http on loopback (as the AWS
// connector does).
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("endpoint %q is not an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint %q must be a plain base URL", raw)
	}
	host := u.Hostname()
	loopback := host == "127.0.0.1" || host == "localhost" || host == "::1"
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback {
			return fmt.Errorf("endpoint %q must use https (http is allowed only for 127.0.0.1, localhost and ::1)", raw)
		}
	default:
		return fmt.Errorf("endpoint %q must use https", raw)
	}
	return nil
}

// code is the S3 error code of err, "" if none.
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// status is the HTTP status of err's response, 0 if none.
func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func notFound(err error) bool {
	var nsk *types.NoSuchKey
	return errors.As(err, &nsk) || status(err) == http.StatusNotFound && code(err) != "NoSuchBucket"
}
