package rpc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Retries are declared in the contract, not guessed from method names: a
// unary method whose proto says it has no side effects (option
// idempotency_level = NO_SIDE_EFFECTS) or that it may be repeated
// (IDEMPOTENT) is retried by gRPC itself, through the service config every
// client is dialled with, when an attempt fails with UNAVAILABLE (the
// request did not reach a working server). Other codes are answers, not
// transient faults. gRPC waits a random time up to the backoff before each
// retry (so callers retrying together spread out), within the call's
// deadline.

// maxRetryBackoff caps the wait between attempts.
const maxRetryBackoff = time.Second

// retryServiceConfig is the gRPC service config that retries the
// retryable methods of every service in files.
func retryServiceConfig(cfg RetryConfig, files *protoregistry.Files) (string, error) {
	names := RetryableMethods(files)
	if cfg.MaxAttempts <= 1 || len(names) == 0 {
		return `{}`, nil
	}
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	var list []name
	for _, full := range names {
		list = append(list, name{Service: string(full.Parent()), Method: string(full.Name())})
	}
	sc := map[string]any{"methodConfig": []any{map[string]any{
		"name": list,
		"retryPolicy": map[string]any{
			// gRPC caps attempts at 5.
			"maxAttempts":          min(cfg.MaxAttempts, 5),
			"initialBackoff":       seconds(cfg.Backoff),
			"maxBackoff":           seconds(max(cfg.Backoff, maxRetryBackoff)),
			"backoffMultiplier":    2,
			"retryableStatusCodes": []string{"UNAVAILABLE"},
		},
	}}}
	b, err := json.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("retry service config: %w", err)
	}
	return string(b), nil
}

// seconds is d in the service config's duration format.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" }

// RetryableMethods lists, sorted, the unary methods of files' services
// whose idempotency level is declared (NO_SIDE_EFFECTS or IDEMPOTENT).
func RetryableMethods(files *protoregistry.Files) []protoreflect.FullName {
	var out []protoreflect.FullName
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		svcs := fd.Services()
		for i := range svcs.Len() {
			methods := svcs.Get(i).Methods()
			for j := range methods.Len() {
				m := methods.Get(j)
				if m.IsStreamingClient() || m.IsStreamingServer() {
					continue
				}
				opts, _ := m.Options().(*descriptorpb.MethodOptions)
				if opts.GetIdempotencyLevel() != descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN {
					out = append(out, m.FullName())
				}
			}
		}
		return true
	})
	slices.Sort(out)
	return out
}
