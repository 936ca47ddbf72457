package roomsvc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/room/internal/statefake"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

// backend is the state service the room service runs against.
type backend interface {
	client() pb.StateServiceClient
	// events returns the room events published for roomID so far.
	events(t testing.TB, roomID string) []*pb.RoomEvent
	// advance moves time forward for the room service and for the
	// backend's own expiries (bans, rate windows).
	advance(t testing.TB, clk *roomsvc.FakeClock, d time.Duration)
}

type fakeBackend struct {
	fake *statefake.Server
	cl   pb.StateServiceClient
}

func (b *fakeBackend) client() pb.StateServiceClient { return b.cl }

func (b *fakeBackend) events(_ testing.TB, roomID string) []*pb.RoomEvent {
	return b.fake.Events(roomID)
}

func (b *fakeBackend) advance(_ testing.TB, clk *roomsvc.FakeClock, d time.Duration) {
	clk.Advance(d) // the fake reads the same clock
}

func startFake(t testing.TB, clk *roomsvc.FakeClock) backend {
	t.Helper()
	fake := statefake.New(clk.Now)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	pb.RegisterStateServiceServer(g, fake)
	go func() { _ = g.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		g.Stop()
	})
	_ = context.Background
	return &fakeBackend{fake: fake, cl: pb.NewStateServiceClient(conn)}
}
