package usersvc

import (
	"context"

	"github.com/google/uuid"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Events receives analytics events (LOGIN, LOGOUT, FRIEND_REQUESTED,
// FRIEND_ADDED), fire-and-forget: Emit must not block. *track.Emitter is
// one.
type Events interface {
	Emit(ctx context.Context, e *pb.Event)
}

// emit sends one analytics event; an empty id gets a UUID. Its loss never
// fails a request.
func (s *server) emit(ctx context.Context, id string, typ pb.EventType, userID string, attrs map[string]string) {
	if s.svc.deps.Events == nil || userID == "" {
		return
	}
	if id == "" {
		id = uuid.NewString()
	}
	s.svc.deps.Events.Emit(ctx, &pb.Event{Id: id, Type: typ, UserId: userID, Attributes: attrs})
}

// emitFriend records a friend request or, when the answer is a friendship,
// one FRIEND_ADDED per side. Ids are per pair, so a repeated accept (or a
// request sent again) counts once.
func (s *server) emitFriend(ctx context.Context, me string, f *pb.Friend) {
	other := f.GetUser().GetId()
	switch f.GetStatus() {
	case pb.FriendStatus_OUTGOING:
		s.emit(ctx, "friend-request:"+me+":"+other, pb.EventType_EVENT_TYPE_FRIEND_REQUESTED, me, map[string]string{"friend_id": other})
	case pb.FriendStatus_ACCEPTED:
		a, b := min(me, other), max(me, other)
		s.emit(ctx, "friend:"+a+":"+b+":"+me, pb.EventType_EVENT_TYPE_FRIEND_ADDED, me, map[string]string{"friend_id": other})
		s.emit(ctx, "friend:"+a+":"+b+":"+other, pb.EventType_EVENT_TYPE_FRIEND_ADDED, other, map[string]string{"friend_id": me})
	}
}
