package edge

import (
	"context"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/quota"
)

// Note batch limits (DESIGN section 4).
const (
	maxNoteEvents = 300
	maxNoteValue  = 127
	maxDelayMs    = 1000
)

// handleNotes is the hot path: notes never travel through gRPC. The batch
// is checked, charged against the quota, fanned out to the local members at
// once and published for the other instances.
func (c *conn) handleNotes(ctx context.Context, nb *pb.NoteBatch) error {
	if c.roomID == "" {
		return errNotInRoom
	}
	if !c.maySpeak(c.room.GetSettings().GetOnlyOwnerCanPlay()) {
		return rpc.Refuse(pb.ErrorReason_PERMISSION_DENIED, "only the owner may play in this room")
	}
	if err := validateNotes(nb); err != nil {
		return err
	}
	if len(nb.GetEvents()) == 0 {
		return nil
	}
	now := time.Now()
	switch c.quota.Spend(len(nb.GetEvents()), now) {
	case quota.Dropped:
		c.srv.metrics.notesDropped.Add(ctx, int64(len(nb.GetEvents())))
		c.sendQuota(now)
		return nil
	case quota.Flood:
		c.fail(closecode.Quota)
		return nil
	}
	nb.UserId = c.ident.UserID
	// One frame for every local member, encoded once per format.
	frame := codec.NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: nb}})
	if c.srv.hub.Deliver(c.roomID, &fanout.Delivery{Frame: frame, Skip: c.id}) {
		c.srv.metrics.notesOut.Add(ctx, int64(len(nb.GetEvents())))
	}
	// The trace context rides along, so the other instances' fan-out
	// joins this message's trace.
	c.srv.pub.roomEvent(c.srv.cfg.KeyPrefix, &pb.RoomEvent{
		RoomId: c.roomID, OriginInstance: c.srv.cfg.InstanceID, Trace: traceOf(ctx),
		Event: &pb.RoomEvent_Notes{Notes: nb},
	})
	return nil
}

func validateNotes(nb *pb.NoteBatch) error {
	if len(nb.GetEvents()) > maxNoteEvents {
		return invalid("a note batch holds at most 300 events")
	}
	for _, e := range nb.GetEvents() {
		if e.GetNote() > maxNoteValue || e.GetVelocity() > maxNoteValue {
			return invalid("note and velocity must be 0-127")
		}
		if e.GetDelayMs() > maxDelayMs {
			return invalid("delayMs must be 0-1000")
		}
		if e.GetKind() == pb.NoteKind_NOTE_KIND_UNSPECIFIED {
			return invalid("note event kind is missing")
		}
	}
	return nil
}

// maySpeak reports whether the rule "only the owner" lets this user act.
func (c *conn) maySpeak(onlyOwner bool) bool {
	return !onlyOwner || c.room.GetOwnerId() == c.ident.UserID || c.ident.Staff()
}

// limit is the note quota this connection is entitled to now.
func (c *conn) limit() quota.Limit {
	switch {
	case c.ident.Has(pb.Role_ADMIN):
		return quota.Unlimited
	case c.room.GetOwnerId() == c.ident.UserID && c.roomID != "":
		return quota.Owner
	case c.room.GetLobby() || c.roomID == "":
		return quota.Lobby
	default:
		return quota.Room
	}
}

// updateQuota applies a changed entitlement and tells the client; force
// tells it even when nothing changed (after a join).
func (c *conn) updateQuota(force bool) {
	now := time.Now()
	if l := c.limit(); l != c.quota.Limit() {
		c.quota.SetLimit(l, now)
	} else if !force {
		return
	}
	c.sendQuota(now)
}

func (c *conn) sendQuota(now time.Time) {
	allowance, maximum := c.quota.Allowance(now)
	c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_NoteQuota{NoteQuota: &pb.NoteQuota{Allowance: allowance, Max: maximum}}})
}
