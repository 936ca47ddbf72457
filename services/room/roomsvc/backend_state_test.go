package roomsvc_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/room/roomsvc"
	"github.com/pianorhythm/server/services/state/statesvc"
)

// stateBackend is the real state service, in process, served over gRPC on
// loopback, on Redis (embedded miniredis whose clock the test drives, or
// REDIS_URL) and MongoDB (embedded FerretDB, or MONGODB_URI). It subscribes
// to the room channels to see what the room service publishes.
type stateBackend struct {
	cl     pb.StateServiceClient
	mini   *miniredis.Miniredis // nil with a real Redis
	rdb    *redis.Client
	prefix string

	mu     sync.Mutex
	cond   *sync.Cond
	evs    map[string][]*pb.RoomEvent
	marks  map[string]bool
	nextMk int
}

func startState(t testing.TB, clk *roomsvc.FakeClock) *stateBackend {
	t.Helper()
	b := &stateBackend{prefix: storetest.Prefix(t), evs: map[string][]*pb.RoomEvent{}, marks: map[string]bool{}}
	b.cond = sync.NewCond(&b.mu)
	if os.Getenv("REDIS_URL") != "" {
		b.rdb = storetest.Redis(t)
	} else {
		b.mini, b.rdb = storetest.MiniRedis(t)
	}
	svc, err := statesvc.New(statesvc.Config{KeyPrefix: b.prefix, Now: clk.Now}, statesvc.Deps{
		Redis: b.rdb, Mongo: storetest.Mongo(t), Logger: quiet,
	})
	if err != nil {
		t.Fatalf("statesvc.New: %v", err)
	}
	// The real server and client bootstrap, so the trace context of a
	// room request reaches the events state publishes.
	srv, err := rpc.NewServer(rpc.ServerConfig{Name: "state", Logger: quiet, Propagator: propagation.TraceContext{}, ServiceKeys: serviceKeys})
	if err != nil {
		t.Fatal(err)
	}
	svc.Register(srv.GRPC())
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(sctx) }()
	conn, err := rpc.Dial(rpc.ClientConfig{Target: srv.Addr(), Name: "state", Logger: quiet, Propagator: propagation.TraceContext{}, ServiceKeys: serviceKeys, Caller: "room"})
	if err != nil {
		t.Fatal(err)
	}
	b.cl = pb.NewStateServiceClient(conn)

	ps := b.rdb.PSubscribe(context.Background(), b.prefix+"room:*")
	if _, err := ps.Receive(context.Background()); err != nil { // the subscription confirmation
		t.Fatalf("psubscribe: %v", err)
	}
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		for m := range ps.Channel() {
			b.record(strings.TrimPrefix(m.Channel, b.prefix+"room:"), m.Payload)
		}
	}()
	t.Cleanup(func() {
		_ = ps.Close()
		<-listened
		_ = conn.Close()
		stop()
		<-served
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("close state: %v", err)
		}
	})
	return b
}

const markPrefix = "test-mark:"

func (b *stateBackend) record(room, payload string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.HasPrefix(payload, markPrefix) {
		b.marks[payload] = true
		b.cond.Broadcast()
		return
	}
	ev := &pb.RoomEvent{}
	if err := proto.Unmarshal([]byte(payload), ev); err == nil {
		b.evs[room] = append(b.evs[room], ev)
	}
}

func (b *stateBackend) client() pb.StateServiceClient { return b.cl }

// events publishes a mark on the room's channel after everything the room
// service already published there and waits for it: Redis delivers one
// channel's messages in order, so every earlier event has arrived by then.
func (b *stateBackend) events(t testing.TB, roomID string) []*pb.RoomEvent {
	t.Helper()
	b.mu.Lock()
	b.nextMk++
	mark := markPrefix + strconv.Itoa(b.nextMk)
	b.mu.Unlock()
	if err := b.rdb.Publish(context.Background(), b.prefix+"room:"+roomID, mark).Err(); err != nil {
		t.Fatalf("publish mark: %v", err)
	}
	deadline := time.AfterFunc(10*time.Second, func() { b.mu.Lock(); b.cond.Broadcast(); b.mu.Unlock() })
	defer deadline.Stop()
	start := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.marks[mark] {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("events of %s: mark never arrived", roomID)
		}
		b.cond.Wait()
	}
	return append([]*pb.RoomEvent(nil), b.evs[roomID]...)
}

// advance moves the room service's and state's clock, and Redis's clock
// for TTLs (rate-limit windows) when Redis is embedded.
func (b *stateBackend) advance(_ testing.TB, clk *roomsvc.FakeClock, d time.Duration) {
	if b.mini != nil {
		b.mini.FastForward(d)
	}
	clk.Advance(d)
}
