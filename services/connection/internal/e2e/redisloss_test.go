package e2e

import (
	"context"
	"go.mongodb.org/mongo-driver/v2/bson"
	"slices"
	"sync"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/redisproc"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// restores records the RestoreInstance calls the state service receives.
type restores struct {
	mu   sync.Mutex
	reqs []*pb.RestoreInstanceRequest
}

func (r *restores) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if info.FullMethod == pb.StateService_RestoreInstance_FullMethodName {
		r.mu.Lock()
		r.reqs = append(r.reqs, proto.CloneOf(req.(*pb.RestoreInstanceRequest)))
		r.mu.Unlock()
	}
	return next(ctx, req)
}

// await returns the latest request from instance, waiting for one.
func (r *restores) await(t *testing.T, instance string) *pb.RestoreInstanceRequest {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r.mu.Lock()
		var last *pb.RestoreInstanceRequest
		for _, req := range r.reqs {
			if req.GetInstanceId() == instance {
				last = req
			}
		}
		r.mu.Unlock()
		if last != nil {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s never called RestoreInstance", instance)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heardNotes sends note batches from `from` until `to` hears one of them,
// and returns it.
func heardNotes(t *testing.T, from, to *client, what string) *pb.NoteBatch {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		from.send(notes(1))
		if got, err := to.tryRead(200 * time.Millisecond); err == nil && isNotes(got) && got.GetNotes().GetUserId() == from.id() {
			return got.GetNotes()
		}
	}
	t.Fatalf("%s: no notes heard", what)
	return nil
}

// TestRedisLossIsARestart: Redis is killed under play and started again
// empty. Meanwhile two clients on one edge keep hearing each other's notes,
// and what needs Redis answers UNAVAILABLE (a join at once, a chat from the
// room service) without holding the notes. When Redis is back the
// subscriptions are restored (notes cross the two edges again) and each
// edge, told by its heartbeat that the state service lost it, re-registers
// every connection it holds with RestoreInstance.
func TestRedisLossIsARestart(t *testing.T) {
	srv := redisproc.Start(t)
	rec := &restores{}
	g := newGate(pb.RoomService_SendChat_FullMethodName)
	t.Cleanup(g.release)
	w := newWorldWith(t, worldOpts{rdb: srv.Client(), stateIcpt: rec.interceptor, roomIcpt: g.interceptor})
	cfg := connsvc.Config{RedisCheckInterval: 100 * time.Millisecond, CallTimeout: 3 * time.Second}
	cfg.InstanceID = "edge-a"
	ea := w.edge(cfg)
	cfg.InstanceID = "edge-b"
	eb := w.edge(cfg)
	a1 := ea.dial(t, codec.Proto, "")
	a2 := ea.dial(t, codec.JSON, "")
	b1 := eb.dial(t, codec.JSON, "")
	for _, c := range []*client{a1, a2, b1} {
		c.listen() // heardNotes polls with short reads
	}
	a1.join("jam", true)
	a2.join("jam", false)
	b1.join("jam", false)
	heardNotes(t, a1, b1, "before the outage, across edges")

	srv.Kill()
	// A chat while Redis is down, held at the room service for as long as
	// the notes below take: they do not wait for it, nor for Redis.
	g.hold(a1.id())
	chatID := a1.send(chat("anyone?"))
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the chat never reached the room service")
	}
	// Batches marked from 1000 on, in order (earlier ones may still be
	// queued for a2).
	for i := int64(1000); i < 1020; i++ {
		m := notes(1)
		m.GetNotes().Time = i
		a1.send(m)
		got := a2.await("a1's notes while Redis is down", 5*time.Second, func(m *pb.ServerMessage) bool {
			return isNotes(m) && m.GetNotes().GetTime() >= 1000 && m.GetNotes().GetTime() < 1020
		}).GetNotes()
		if got.GetUserId() != a1.id() || got.GetTime() != i {
			t.Fatalf("a2 heard %v, want a1's batch %d", got, i)
		}
		a2.send(notes(1))
		if got := a1.await("a2's notes while Redis is down", 5*time.Second, isNotes).GetNotes(); got.GetUserId() != a2.id() {
			t.Fatalf("a1 heard %v", got)
		}
		time.Sleep(50 * time.Millisecond) // the outage lasts over a second
	}
	g.release() // the room service goes on and finds Redis down
	if m := a1.reply(chatID); m.GetError().GetCode() != "UNAVAILABLE" {
		t.Fatalf("chat while Redis is down: %v, want UNAVAILABLE", m)
	}
	if m := a2.reply(a2.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "elsewhere", Create: true}}})); m.GetError().GetCode() != "UNAVAILABLE" {
		t.Fatalf("join while Redis is down: %v, want UNAVAILABLE", m)
	}

	srv.Restart() // empty
	heardNotes(t, b1, a1, "after the restart, from edge b to edge a")
	heardNotes(t, a2, b1, "after the restart, from edge a to edge b")

	type seat struct{ user, conn, room string }
	seatsOf := func(req *pb.RestoreInstanceRequest) []seat {
		var out []seat
		for _, s := range req.GetSeats() {
			if s.GetMember().GetInstanceId() != req.GetInstanceId() {
				t.Errorf("seat %v names instance %s in a request of %s", s, s.GetMember().GetInstanceId(), req.GetInstanceId())
			}
			out = append(out, seat{s.GetMember().GetUser().GetId(), s.GetMember().GetConnectionId(), s.GetRoomId()})
		}
		slices.SortFunc(out, func(x, y seat) int {
			if x.conn < y.conn {
				return -1
			}
			return 1
		})
		return out
	}
	want := func(cs ...*client) []seat {
		var out []seat
		for _, c := range cs {
			out = append(out, seat{c.id(), c.welcome.GetConnectionId(), "jam"})
		}
		slices.SortFunc(out, func(x, y seat) int {
			if x.conn < y.conn {
				return -1
			}
			return 1
		})
		return out
	}
	if got := seatsOf(rec.await(t, "edge-a")); !slices.Equal(got, want(a1, a2)) {
		t.Fatalf("edge-a restored %v, want %v", got, want(a1, a2))
	}
	if got := seatsOf(rec.await(t, "edge-b")); !slices.Equal(got, want(b1)) {
		t.Fatalf("edge-b restored %v, want %v", got, want(b1))
	}

	// The room came back from the archive and the seats from the edges:
	// chat works again in it, and every member, on both edges, hears it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := a1.reply(a1.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Chat{Chat: &pb.ChatSend{Text: "we are back"}}}))
		if m.GetError() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chat after Redis came back: %v", m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []*client{a2, b1} {
		c.await("the chat in the restored room", 5*time.Second, func(m *pb.ServerMessage) bool {
			return m.GetChat().GetMessage().GetText() == "we are back"
		})
	}
}

// TestMembersOfALostRoomAreTold: Redis comes back empty and the room the
// clients were in exists nowhere (the archive lost it too: a room made
// just before a crash, whose write to MongoDB never happened); the edge's
// re-registration (RestoreInstance) learns it is lost, and its members are
// told with a kicked (reason "room lost") and are no longer in it.
func TestMembersOfALostRoomAreTold(t *testing.T) {
	srv := redisproc.Start(t)
	w := newWorldWith(t, worldOpts{rdb: srv.Client()})
	e := w.edge(connsvc.Config{RedisCheckInterval: 100 * time.Millisecond})
	a := e.dial(t, codec.JSON, "")
	b := e.dial(t, codec.Proto, "")
	a.join("doomed", true)
	b.join("doomed", false)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The room's archived copy is gone (it is written a moment after the
	// room is made; here it is taken away).
	gone := func() bool {
		res, err := w.mongo.Collection("rooms").DeleteOne(ctx, bson.D{{Key: "_id", Value: "doomed"}})
		return err == nil && res.DeletedCount == 1
	}
	deadline := time.Now().Add(5 * time.Second)
	for !gone() {
		if time.Now().After(deadline) {
			t.Fatal("the room never reached the archive")
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.Kill()
	srv.Restart()
	for _, c := range []*client{a, b} {
		k := c.await("kicked from the lost room", 15*time.Second, func(m *pb.ServerMessage) bool { return m.GetKicked() != nil }).GetKicked()
		if k.GetRoomId() != "doomed" || k.GetUserId() != c.id() || k.GetReason() != "room lost" {
			t.Fatalf("kicked %v", k)
		}
		if m := c.reply(c.send(notes(1))); m.GetError().GetCode() != "NOT_IN_ROOM" {
			t.Fatalf("notes after the room was lost: %v, want NOT_IN_ROOM", m)
		}
	}
}
