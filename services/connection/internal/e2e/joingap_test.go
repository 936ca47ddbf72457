package e2e

import (
	"context"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// gapRoom publishes a chat line into the room after the room service has
// seated the joiner and before the edge sees the reply: the window in which
// an edge that subscribes after the reply loses events.
type gapRoom struct {
	pb.RoomServiceClient
	state pb.StateServiceClient
	room  string
}

func (g gapRoom) JoinRoom(ctx context.Context, req *pb.JoinRoomRequest, opts ...grpc.CallOption) (*pb.JoinRoomResponse, error) {
	res, err := g.RoomServiceClient.JoinRoom(ctx, req, opts...)
	if err != nil || req.GetRoomId() != g.room {
		return res, err
	}
	msg := &pb.ChatMessage{Id: "gap", RoomId: g.room, UserId: "system", Text: "in the gap", SentAt: timestamppb.Now(), System: true}
	if _, err := g.state.PublishRoomEvent(ctx, &pb.RoomEvent{RoomId: g.room, EventId: "gap", At: msg.GetSentAt(),
		Event: &pb.RoomEvent_Chat{Chat: &pb.ChatPosted{Message: msg}}}); err != nil {
		return nil, err
	}
	// Let the event travel through Redis to the edge's dispatcher while the
	// reply is held; nothing observable marks its arrival, hence the wait.
	time.Sleep(200 * time.Millisecond)
	return res, nil
}

func TestEventDuringJoinIsNotMissed(t *testing.T) {
	w := newWorld(t)
	state := pb.NewStateServiceClient(w.state)
	e := w.edgeWith(connsvc.Config{}, edgeOpts{room: func(c pb.RoomServiceClient) pb.RoomServiceClient {
		return gapRoom{RoomServiceClient: c, state: state, room: "gap"}
	}})
	c := e.dial(t, codec.JSON, "")
	id := c.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "gap", Create: true}}})
	// roomJoined first, then the line published in the gap.
	first := c.await("roomJoined", 5*time.Second, func(m *pb.ServerMessage) bool {
		return m.GetId() == id || m.GetChat() != nil
	})
	if first.GetRoomJoined() == nil {
		t.Fatalf("first %v, want roomJoined", first)
	}
	m := c.await("the gap's chat line", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetChat() != nil })
	if m.GetChat().GetMessage().GetText() != "in the gap" {
		t.Fatalf("chat %v", m)
	}
}
