package edge

import (
	"context"
	"math"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
)

// handleCursor relays a pointer position like notes: inline on the actor,
// never through gRPC, to the local members of the room at once (not the
// sender) and to the other instances through the room's channel (their
// echo skipped by origin). No reply: over the rate the position is
// dropped silently, as Multiplayer Piano does (a pointer moves often, and
// the next position replaces this one).
func (a *connActor) handleCursor(ctx context.Context, _ string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	cur := m.GetCursor()
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	if !finite(cur.GetX()) || !finite(cur.GetY()) {
		return nil, invalid("cursor x and y must be finite numbers")
	}
	if !s.cursors.Allow() {
		return nil, nil
	}
	cur.UserId = c.userID
	frame := codec.NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_Cursor{Cursor: cur}})
	if c.srv.hub.Deliver(s.roomID, &fanout.Delivery{Frame: frame, Skip: c.id, Lossy: true}) == fanout.Delivered {
		c.srv.metrics.cursorsOut.Add(ctx, 1)
	}
	c.srv.pub.roomEvent(c.srv.cfg.KeyPrefix, &pb.RoomEvent{
		RoomId: s.roomID, OriginInstance: c.srv.cfg.InstanceID, Event: &pb.RoomEvent_Cursor{Cursor: cur},
	})
	return nil, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
