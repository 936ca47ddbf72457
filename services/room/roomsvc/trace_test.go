package roomsvc_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

// TestEventsCarryTraceContext checks that a room event carries the W3C
// trace context of the request that caused it.
func TestEventsCarryTraceContext(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ctx := metadata.AppendToOutgoingContext(as(alice), "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(ctx, &pb.JoinRoomRequest{RoomId: "lobby"}))
	must[*pb.ChatMessage](t)(e.rooms.SendChat(ctx, &pb.SendChatRequest{RoomId: "lobby", Text: "traced"}))
	evs := e.be.events(t, "lobby")
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2", len(evs))
	}
	for _, ev := range evs {
		if tp := ev.GetTrace()["traceparent"]; !strings.Contains(tp, traceID) {
			t.Errorf("%T: traceparent %q does not carry trace %s", ev.GetEvent(), tp, traceID)
		}
		if ev.GetEventId() == "" || ev.GetAt() == nil {
			t.Errorf("event without id or time: %v", ev)
		}
	}
}
