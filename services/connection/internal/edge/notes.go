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

// handleNotes is the hot path, inline on the actor: notes never travel
// through gRPC and never wait for Redis. The batch is checked, charged
// against the quota, fanned out to the local members at once and handed
// to the publisher for the other instances (dropped and counted when
// Redis is down or behind).
func (a *connActor) handleNotes(ctx context.Context, _ string, m *pb.ClientMessage) (work, error) {
	c, s := a.c, a.s
	nb := m.GetNotes()
	if s.roomID == "" {
		return nil, errNotInRoom
	}
	if !a.maySpeak(s.room.GetSettings().GetOnlyOwnerCanPlay()) {
		return nil, rpc.Refuse(pb.ErrorReason_PERMISSION_DENIED, "only the owner may play in this room")
	}
	if err := validateNotes(nb); err != nil {
		return nil, err
	}
	if len(nb.GetEvents()) == 0 {
		return nil, nil
	}
	now := time.Now()
	switch s.quota.Spend(len(nb.GetEvents()), now) {
	case quota.Dropped:
		c.srv.metrics.notesDropped.Add(ctx, int64(len(nb.GetEvents())))
		a.sendQuota(now)
		return nil, nil
	case quota.Flood:
		c.fail(closecode.Quota)
		return nil, nil
	}
	c.notes.Add(notesPlayed(nb.GetEvents()))
	nb.UserId = c.userID
	// One frame for every local member, encoded once per format.
	frame := codec.NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: nb}})
	c.srv.delivered(s.roomID, &fanout.Delivery{Frame: frame, Skip: c.id, Lossy: true}, len(nb.GetEvents()))
	// The trace context rides along, so the other instances' fan-out
	// joins this message's trace.
	c.srv.pub.roomEvent(c.srv.cfg.KeyPrefix, &pb.RoomEvent{
		RoomId: s.roomID, OriginInstance: c.srv.cfg.InstanceID, Trace: traceOf(ctx),
		Event: &pb.RoomEvent_Notes{Notes: nb},
	})
	return nil, nil
}

// notesPlayed is what a batch adds to its player's notes: the keys struck
// (NOTE_ON), not the releases or the pedal.
func notesPlayed(evs []*pb.NoteEvent) int {
	n := 0
	for _, e := range evs {
		if e.GetKind() == pb.NoteKind_NOTE_ON {
			n++
		}
	}
	return n
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
		switch e.GetKind() {
		case pb.NoteKind_NOTE_ON, pb.NoteKind_NOTE_OFF, pb.NoteKind_SUSTAIN_ON, pb.NoteKind_SUSTAIN_OFF:
		case pb.NoteKind_NOTE_KIND_UNSPECIFIED:
			return invalid("note event kind is missing")
		default:
			// A kind the protocol does not define (a newer client's, or
			// garbage) would be relayed to members that cannot play it.
			return invalid("note event kind must be NOTE_ON, NOTE_OFF, SUSTAIN_ON or SUSTAIN_OFF")
		}
	}
	return nil
}

// maySpeak reports whether the rule "only the owner" lets this user act.
func (a *connActor) maySpeak(onlyOwner bool) bool {
	return !onlyOwner || a.s.room.GetOwnerId() == a.c.userID || a.s.ident.Staff()
}

// limit is the note quota this connection is entitled to now.
func (a *connActor) limit() quota.Limit {
	s := a.s
	switch {
	case s.ident.Has(pb.Role_ADMIN):
		return quota.Unlimited
	case s.room.GetOwnerId() == a.c.userID && s.roomID != "":
		return quota.Owner
	case s.room.GetLobby() || s.roomID == "":
		return quota.Lobby
	default:
		return quota.Room
	}
}

// updateQuota applies a changed entitlement and tells the client; force
// tells it even when nothing changed (after a join).
func (a *connActor) updateQuota(force bool) {
	now := time.Now()
	if l := a.limit(); l != a.s.quota.Limit() {
		a.s.quota.SetLimit(l, now)
	} else if !force {
		return
	}
	a.sendQuota(now)
}

func (a *connActor) sendQuota(now time.Time) {
	allowance, maximum := a.s.quota.Allowance(now)
	a.c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_NoteQuota{NoteQuota: &pb.NoteQuota{Allowance: allowance, Max: maximum}}})
}
