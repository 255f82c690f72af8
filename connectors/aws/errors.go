package aws

import (
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/offboard/offboard/connectors"
)

// vendorError is what a connector error wraps: the AWS error code and the
// scrubbed message, so callers can match codes without the SDK's error
// (whose text can carry PII).
type vendorError struct {
	Code string
	Msg  string
}

func (e *vendorError) Error() string {
	if e.Code == "" {
		return e.Msg
	}
	return e.Code + ": " + e.Msg
}

// kindForCode sorts AWS error codes. IAM and STS answer most client errors
// with 400 or 403 whatever they mean, so the code decides, not the status.
var kindForCode = map[string]connectors.Kind{
	// Gone: removals treat these as already done.
	"NoSuchEntity":              connectors.NotFound,
	"ResourceNotFoundException": connectors.NotFound,
	// Credentials the service does not accept.
	"InvalidClientTokenId":                connectors.Unauthenticated,
	"UnrecognizedClientException":         connectors.Unauthenticated,
	"SignatureDoesNotMatch":               connectors.Unauthenticated,
	"InvalidSignatureException":           connectors.Unauthenticated,
	"IncompleteSignature":                 connectors.Unauthenticated,
	"IncompleteSignatureException":        connectors.Unauthenticated,
	"MissingAuthenticationToken":          connectors.Unauthenticated,
	"MissingAuthenticationTokenException": connectors.Unauthenticated,
	"ExpiredToken":                        connectors.Unauthenticated,
	"ExpiredTokenException":               connectors.Unauthenticated,
	"InvalidAccessKeyId":                  connectors.Unauthenticated,
	// Authenticated, not allowed.
	"AccessDenied":            connectors.PermissionDenied,
	"AccessDeniedException":   connectors.PermissionDenied,
	"UnauthorizedOperation":   connectors.PermissionDenied,
	"RegionDisabledException": connectors.PermissionDenied,
	// Slow down.
	"Throttling":                    connectors.RateLimited,
	"ThrottlingException":           connectors.RateLimited,
	"TooManyRequestsException":      connectors.RateLimited,
	"RequestLimitExceeded":          connectors.RateLimited,
	"RequestThrottled":              connectors.RateLimited,
	"RequestThrottledException":     connectors.RateLimited,
	"SlowDown":                      connectors.RateLimited,
	"PriorRequestNotComplete":       connectors.RateLimited,
	"ProvisionedThroughputExceeded": connectors.RateLimited,
	// Try again later.
	"EntityTemporarilyUnmodifiable": connectors.Unavailable,
	"ServiceFailure":                connectors.Unavailable,
	"ServiceUnavailable":            connectors.Unavailable,
	"ServiceUnavailableException":   connectors.Unavailable,
	"InternalFailure":               connectors.Unavailable,
	"InternalServerException":       connectors.Unavailable,
	"InternalError":                 connectors.Unavailable,
	"IDPCommunicationError":         connectors.Unavailable,
	// Another change is in the way; retry.
	"ConcurrentModification":          connectors.Conflict,
	"ConcurrentModificationException": connectors.Conflict,
	"ConflictException":               connectors.Conflict,
	"DeleteConflict":                  connectors.Conflict,
	// The request itself is wrong.
	"ValidationError":                  connectors.InvalidInput,
	"ValidationException":              connectors.InvalidInput,
	"InvalidInput":                     connectors.InvalidInput,
	"InvalidParameterValue":            connectors.InvalidInput,
	"MalformedPolicyDocument":          connectors.InvalidInput,
	"LimitExceeded":                    connectors.InvalidInput,
	"ServiceQuotaExceededException":    connectors.InvalidInput,
	"InvalidLookupAttributesException": connectors.InvalidInput,
	"InvalidMaxResultsException":       connectors.InvalidInput,
	"InvalidNextTokenException":        connectors.InvalidInput,
	"InvalidTimeRangeException":        connectors.InvalidInput,
	"InvalidEventCategoryException":    connectors.InvalidInput,
	"UnknownOperationException":        connectors.InvalidInput,
	"InvalidAction":                    connectors.InvalidInput,
}

// apiError turns an SDK error into a *connectors.Error: the kind from the
// AWS error code (or the HTTP status), the status, RetryAfter from the
// Retry-After header (or the identity store's RetryAfterSeconds), and the
// AWS message scrubbed of emails. An answer the SDK could not decode (a 200
// whose body is not the operation's XML or JSON, say) keeps the kind of its
// status (Unavailable for a 200) with the scrubbed decode error: "could not
// decode the response: ...". The SDK
// error itself is not kept: its text can carry user names and emails.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	if be := connectors.FromBudget(System, op, err); be != nil {
		return be
	}
	var ce *connectors.Error
	if errors.As(err, &ce) {
		return err
	}
	out := &connectors.Error{System: System, Op: op, Kind: connectors.Unavailable}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		out.Status = re.HTTPStatusCode()
		out.Kind = connectors.KindForStatus(out.Status)
		if out.Status == http.StatusBadRequest {
			// IAM answers throttling and much else with 400: without a
			// code, assume the service may accept it later.
			out.Kind = connectors.Unavailable
		}
	}
	var ae smithy.APIError
	var de *smithy.DeserializationError
	switch {
	case errors.As(err, &ae):
		code := ae.ErrorCode()
		if k, ok := kindForCode[code]; ok {
			out.Kind = k
		} else if out.Status == 0 {
			out.Kind = connectors.Unavailable
		} else if out.Status == http.StatusBadRequest {
			out.Kind = connectors.InvalidInput
		}
		msg := connectors.Scrub(ae.ErrorMessage())
		out.Msg = code + ": " + msg
		out.Err = &vendorError{Code: code, Msg: msg}
	case errors.As(err, &de):
		out.Msg = "could not decode the response: " + decodeCause(de.Err)
		out.Err = &vendorError{Msg: out.Msg}
	case re != nil && re.ResponseError != nil && re.Err != nil:
		// An answer that is no API error but failed all the same: the
		// SDK could not read or decode it (its XML or JSON decoders
		// report without a DeserializationError).
		out.Msg = "could not decode the response: " + decodeCause(re.Err)
		out.Err = &vendorError{Msg: out.Msg}
	case out.Status != 0:
		out.Msg = fmt.Sprintf("HTTP %d", out.Status)
		out.Err = &vendorError{Msg: out.Msg}
	default:
		out.Msg = connectors.TransportMessage(err)
		out.Err = &vendorError{Msg: out.Msg}
	}
	out.RetryAfter = retryAfterOf(err)
	return out
}

// maxCause bounds the decoder's error in a message.
const maxCause = 300

// decodeCause is why the SDK could not decode a response: the decoder's own
// error, scrubbed and bounded.
func decodeCause(err error) string {
	if err == nil {
		return "deserialization failed"
	}
	msg := connectors.Scrub(err.Error())
	if r := []rune(msg); len(r) > maxCause {
		msg = string(r[:maxCause]) + "…"
	}
	return msg
}

// codeOf is the AWS error code a connector error carries, or "".
func codeOf(err error) string {
	var ve *vendorError
	if errors.As(err, &ve) {
		return ve.Code
	}
	return ""
}
