package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/grpc"
)

// gate holds the room service's handling of one method for one user until
// the test opens it: a slow chat or join of a real room service.
type gate struct {
	method string
	mu     sync.Mutex
	user   string
	held   chan struct{} // closed when a call is being held
	open   chan struct{}
}

func newGate(method string) *gate {
	return &gate{method: method, held: make(chan struct{}), open: make(chan struct{})}
}

// hold makes the gate hold userID's calls.
func (g *gate) hold(userID string) {
	g.mu.Lock()
	g.user = userID
	g.mu.Unlock()
}

func (g *gate) release() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gate) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if info.FullMethod == g.method {
		id, _ := auth.FromContext(ctx)
		g.mu.Lock()
		mine := g.user != "" && id.UserID == g.user
		g.mu.Unlock()
		if mine {
			select {
			case <-g.held:
			default:
				close(g.held)
			}
			<-g.open
		}
	}
	return next(ctx, req)
}

// TestNotesFlowWhileAChatIsPending: the room service is slow to answer one
// user's chat (held by an interceptor until the test lets it go). Meanwhile
// that user's notes reach the other member, in order, and pings are
// answered; the chat is acknowledged once the room service answers, and the
// user's next request is answered after it (calls keep their order).
func TestNotesFlowWhileAChatIsPending(t *testing.T) {
	g := newGate(pb.RoomService_SendChat_FullMethodName)
	w := newWorldWith(t, worldOpts{roomIcpt: g.interceptor})
	t.Cleanup(g.release)
	// A call timeout far beyond the waits below: the chat stays pending.
	e := w.edge(connsvc.Config{CallTimeout: time.Minute})
	a := e.dial(t, codec.Proto, "")
	b := e.dial(t, codec.JSON, "")
	a.join("slow-chat", true)
	b.join("slow-chat", false)
	g.hold(a.id())

	chatID := a.send(chat("are you there?"))
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the chat never reached the room service")
	}
	listID := a.send(&pb.ClientMessage{Payload: &pb.ClientMessage_ListRooms{ListRooms: &pb.ListRooms{}}})

	// The chat is pending: a's notes still reach b, in the order sent.
	const batches = 20
	for i := range batches {
		m := notes(1)
		m.GetNotes().Time = int64(i + 1)
		a.send(m)
	}
	for i := range batches {
		got := b.await("notes while the chat is pending", 5*time.Second, isNotes).GetNotes()
		if got.GetUserId() != a.id() || got.GetTime() != int64(i+1) {
			t.Fatalf("batch %d: got time %d from %s, want %d from %s", i, got.GetTime(), got.GetUserId(), i+1, a.id())
		}
	}
	pingID := a.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{ClientTime: 7}}})
	if m := a.reply(pingID); m.GetPong().GetClientTime() != 7 {
		t.Fatalf("ping while the chat is pending: %v", m)
	}
	select {
	case <-g.open:
		t.Fatal("gate opened early")
	default:
	}

	g.release()
	var order []string
	for len(order) < 2 {
		m := a.await("chat ack and room list", 10*time.Second, func(m *pb.ServerMessage) bool {
			return m.GetId() == chatID || m.GetId() == listID
		})
		if m.GetId() == chatID && m.GetAck() == nil {
			t.Fatalf("chat answered %v", m)
		}
		order = append(order, m.GetId())
	}
	if order[0] != chatID {
		t.Fatalf("answers in order %v, want the chat (%s) first", order, chatID)
	}
	if m := b.await("the chat", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetChat() != nil }); m.GetChat().GetMessage().GetText() != "are you there?" {
		t.Fatalf("chat %v", m)
	}
}

// TestNotesFlowWhileAJoinIsPending: a join to another room that the room
// service is slow to grant does not stop the user's notes in the room it
// is in; once granted, the user is in the new room.
func TestNotesFlowWhileAJoinIsPending(t *testing.T) {
	g := newGate(pb.RoomService_JoinRoom_FullMethodName)
	w := newWorldWith(t, worldOpts{roomIcpt: g.interceptor})
	t.Cleanup(g.release)
	e := w.edge(connsvc.Config{CallTimeout: time.Minute})
	a := e.dial(t, codec.JSON, "")
	b := e.dial(t, codec.Proto, "")
	a.join("here", true)
	b.join("here", false)
	c := e.dial(t, codec.JSON, "")
	c.join("there", true)
	g.hold(a.id())

	joinID := a.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "there"}}})
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the join never reached the room service")
	}
	a.send(notes(2))
	if got := b.await("notes while the join is pending", 5*time.Second, isNotes).GetNotes(); got.GetUserId() != a.id() {
		t.Fatalf("b got %v", got)
	}
	g.release()
	if m := a.reply(joinID); m.GetRoomJoined().GetRoom().GetId() != "there" {
		t.Fatalf("join: %v", m)
	}
	a.send(notes(1))
	if got := c.await("notes in the new room", 5*time.Second, isNotes).GetNotes(); got.GetUserId() != a.id() {
		t.Fatalf("c got %v", got)
	}
	b.quietFor(func(m *pb.ServerMessage) bool { return isNotes(m) && m.GetNotes().GetUserId() == a.id() })
}

// TestWaitingCallsAreBounded: behind a pending call, a client may queue a
// bounded number of requests; the rest are refused at once (RATE_LIMITED)
// instead of piling up, and every queued one is answered in the end.
func TestWaitingCallsAreBounded(t *testing.T) {
	g := newGate(pb.RoomService_SendChat_FullMethodName)
	w := newWorldWith(t, worldOpts{roomIcpt: g.interceptor})
	t.Cleanup(g.release)
	e := w.edge(connsvc.Config{CallTimeout: time.Minute})
	a := e.dial(t, codec.JSON, "")
	a.join("queue", true)
	g.hold(a.id())
	chatID := a.send(chat("hold on"))
	<-g.held
	const sent, bound = 40, 32 // bound: maxWaitingCalls of the edge
	ids := map[string]bool{}
	for range sent {
		ids[a.send(&pb.ClientMessage{Payload: &pb.ClientMessage_ListRooms{ListRooms: &pb.ListRooms{}}})] = true
	}
	for range sent - bound {
		m := a.await("a refusal", 5*time.Second, func(m *pb.ServerMessage) bool { return ids[m.GetId()] })
		if m.GetError().GetCode() != "RATE_LIMITED" {
			t.Fatalf("beyond the bound: %v, want RATE_LIMITED", m)
		}
		delete(ids, m.GetId())
	}
	g.release()
	if m := a.reply(chatID); m.GetAck() == nil {
		t.Fatalf("chat: %v", m)
	}
	for len(ids) > 0 {
		m := a.await("the queued requests' answers", 10*time.Second, func(m *pb.ServerMessage) bool { return ids[m.GetId()] })
		if m.GetRoomList() == nil {
			t.Fatalf("queued request answered %v", m)
		}
		delete(ids, m.GetId())
	}
}
