package e2e

import (
	"errors"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func protoJSON(m proto.Message) ([]byte, error) { return protojson.Marshal(m) }

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
