package ghost

import (
	"context"
	"log/slog"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Heartbeat refreshes instanceID's heartbeat key (TTL ttl) every ttl/3
// until ctx ends. Errors are logged and retried on the next beat.
func Heartbeat(ctx context.Context, state pb.StateServiceClient, instanceID string, ttl time.Duration, log *slog.Logger) error {
	beat := func() {
		cctx, cancel := context.WithTimeout(ctx, ttl/3)
		defer cancel()
		if _, err := state.Heartbeat(cctx, &pb.HeartbeatRequest{InstanceId: instanceID, Ttl: durationpb.New(ttl)}); err != nil && ctx.Err() == nil {
			log.Warn("instance heartbeat", "instance", instanceID, "err", err)
		}
	}
	beat()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			beat()
		}
	}
}
