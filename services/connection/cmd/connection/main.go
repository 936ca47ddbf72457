// Command connection runs the edge (ConnectionManager) alone: WebSocket
// (/ws, and /mpp for Multiplayer Piano clients), the REST gateway to every
// service, the web client and the admin gRPC service. Every flag has an environment variable (-help lists them); the
// configuration is printed at start with secrets masked. Any number of
// instances may share one Redis.
package main

import (
	"context"
	"strings"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/boot"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/web"
	"google.golang.org/grpc"
)

func main() { boot.Main("connection", "127.0.0.1:9104", run) }

func run(ctx context.Context, p *boot.Program) error {
	fs := p.Flags
	httpAddr := fs.String("http", "PR_HTTP_ADDR", ":8080", "edge HTTP address: /ws, /v1/..., web client")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL (empty: embedded Redis, for one instance only)")
	peers := map[string]*string{
		"state":     p.Peer("state", "127.0.0.1:9101"),
		"user":      p.Peer("user", "127.0.0.1:9102"),
		"room":      p.Peer("room", "127.0.0.1:9103"),
		"analytics": p.Peer("analytics", "127.0.0.1:9105"),
	}
	instance := fs.String("instance-id", "PR_INSTANCE_ID", "", "edge instance id (empty: generated)")
	prefix := fs.String("key-prefix", "PR_KEY_PREFIX", "pr:", "Redis key and channel prefix")
	arriving := fs.Int("max-arriving", "PR_MAX_ARRIVING", 32, "new connections signed in at once; the others wait their turn (up to a minute, then 503)")
	proxies := fs.String("trusted-proxies", "PR_TRUSTED_PROXIES", "",
		"comma-separated CIDRs or IPs of the proxies whose X-Forwarded-For names the client (empty: none, the socket's peer is the client)")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "pr:analytics:events", "analytics Redis stream (notes, connections opened and closed)")
	motd := fs.String("mpp-motd", "PR_MPP_MOTD", "", "message of the day of /mpp (Multiplayer Piano clients; empty: a welcome naming the server)")
	if err := p.Parse(ctx); err != nil {
		return err
	}
	rdb, err := p.Redis(ctx, *redisURL)
	if err != nil {
		return err
	}
	conns := map[string]*grpc.ClientConn{}
	for name, addr := range peers {
		if conns[name], err = p.Dial(name, *addr); err != nil {
			return err
		}
	}
	// The REST gateway reaches this instance's own admin service locally,
	// and the monitor wherever -monitor-addr says.
	if conns["connection"], err = p.Dial("connection", p.ListenAddr()); err != nil {
		return err
	}
	if addr := p.Flags.Lookup("monitor-addr").Value.String(); addr != "" {
		if conns["monitor"], err = p.Dial("monitor", addr); err != nil {
			return err
		}
	}
	// Without the state and user services no connection can be admitted
	// (sessions, guests, heartbeats); the room, analytics and monitor may
	// come later, and /readyz says until they do.
	if err := p.WaitServing(ctx, conns["state"], pb.StateService_ServiceDesc.ServiceName); err != nil {
		return err
	}
	if err := p.WaitServing(ctx, conns["user"], pb.UserService_ServiceDesc.ServiceName); err != nil {
		return err
	}
	verifier, err := p.Tokens()
	if err != nil {
		return err
	}
	// Closed after the service (closers run in reverse): the last counts
	// of the connections closed at shutdown are flushed.
	events := p.Events(rdb, *stream)
	cfg := connsvc.Config{InstanceID: *instance, KeyPrefix: *prefix, TrustedProxies: splitList(*proxies), MPPMOTD: *motd, MaxArriving: *arriving}
	svc, err := connsvc.New(cfg, connsvc.Deps{
		Events: events,
		Redis:  rdb.Client, Room: pb.NewRoomServiceClient(conns["room"]), User: pb.NewUserServiceClient(conns["user"]),
		State: pb.NewStateServiceClient(conns["state"]), Verifier: verifier,
		Gateway: connsvc.Gateway{User: conns["user"], Room: conns["room"], State: conns["state"],
			Analytics: conns["analytics"], Monitor: conns["monitor"], Connection: conns["connection"]},
		Web: web.Handler(), Metrics: p.Telemetry.MetricsHandler(), Logger: p.Log,
		Meter: p.Meter(), TracerProvider: p.Telemetry.TracerProvider(),
		OnPanic: p.ActorPanics, OnGiveUp: p.ActorGaveUp,
	})
	if err != nil {
		return err
	}
	if err := p.ServeHTTP(*httpAddr, svc.Handler()); err != nil {
		return err
	}
	// Closed before the HTTP server (closers run in reverse): sockets get
	// 4000 first, so clients reconnect to another instance.
	p.Defer(svc.Close)
	p.ReadyWhen(svc.Ready)
	return p.Serve(ctx, pb.ConnectionService_ServiceDesc.ServiceName, svc.Register)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
