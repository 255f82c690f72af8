package worker

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/offboard/offboard/activities"
	"github.com/offboard/offboard/config"
	"github.com/offboard/offboard/evidence"
	"github.com/offboard/offboard/evidence/s3store"
)

// Version is the collector version evidence manifests record.
var Version = "offboard-dev"

// Collector builds the evidence collector from cfg.Evidence (nil when
// none is configured): the signing key, which must exist, and the store,
// an S3 bucket checked for Object Lock, or a local directory.
func Collector(ctx context.Context, cfg *config.Config) (*activities.Collector, error) {
	e := cfg.Evidence
	if e == nil {
		return nil, nil
	}
	key, err := evidence.LoadKey(e.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	c := &activities.Collector{Key: key, Days: e.Days, After: e.AfterCut(), RiskyASNs: e.RiskyASNs, Version: Version}
	if s := e.S3; s != nil {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("evidence.s3: AWS credentials: %w", err)
		}
		st, err := s3store.New(ctx, s3store.Config{Bucket: s.Bucket, Prefix: s.Prefix, Retention: s.Retention,
			Region: s.Region, Endpoint: s.Endpoint, UsePathStyle: s.UsePathStyle}, awsCfg)
		if err != nil {
			return nil, fmt.Errorf("evidence.s3: %w", err)
		}
		if err := st.Check(ctx); err != nil {
			return nil, fmt.Errorf("evidence.s3: %w", err)
		}
		c.Store = st
		return c, nil
	}
	c.Store = evidence.NewDir(e.Dir)
	return c, nil
}
