package status

import (
	"context"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Component is one thing the monitor checks. Check returns nil when the
// component is up; it must honour ctx's deadline. Diagnose, when set, asks
// the component for its own figures after a check that found it up.
type Component struct {
	Name     string
	Check    func(ctx context.Context) error
	Diagnose func(ctx context.Context) (*pb.Diagnostics, error)
}

// GRPCDiagnostics asks a server's DiagnosticsService (pkg/rpc registers it
// on every server) for its figures, as the monitor's internal identity.
func GRPCDiagnostics(conn grpc.ClientConnInterface) func(context.Context) (*pb.Diagnostics, error) {
	client := pb.NewDiagnosticsServiceClient(conn)
	return func(ctx context.Context) (*pb.Diagnostics, error) {
		d, err := client.GetDiagnostics(auth.OutgoingContext(ctx, auth.System("monitor")), &pb.GetDiagnosticsRequest{})
		if err != nil {
			return nil, fmt.Errorf("diagnostics: %w", err)
		}
		return d, nil
	}
}

// GRPCHealth checks a server's overall health ("" service) with the
// standard grpc.health.v1 protocol: up only when it answers SERVING.
func GRPCHealth(conn grpc.ClientConnInterface) func(context.Context) error {
	client := healthpb.NewHealthClient(conn)
	return func(ctx context.Context) error {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
		if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health status %s", s)
		}
		return nil
	}
}

// RedisPing checks Redis with PING.
func RedisPing(c redis.UniversalClient) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := c.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis ping: %w", err)
		}
		return nil
	}
}

// MongoPing checks MongoDB with the ping command on db.
func MongoPing(db *mongo.Database) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
			return fmt.Errorf("mongodb ping: %w", err)
		}
		return nil
	}
}
