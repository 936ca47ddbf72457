package usersvc

import (
	"context"
	"errors"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/user/internal/actors"
	"github.com/pianorhythm/server/services/user/internal/validate"
)

func (s *server) UpdateFriend(ctx context.Context, req *pb.UpdateFriendRequest) (*pb.Friend, error) {
	me, _, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validate.ID("user_id", req.GetUserId()); err != nil {
		return nil, s.toStatus(ctx, err)
	}
	if _, ok := pb.FriendAction_name[int32(req.GetAction())]; !ok || req.GetAction() == pb.FriendAction_FRIEND_ACTION_UNSPECIFIED {
		return nil, refuse(pb.ErrorReason_INVALID_ARGUMENT, "action must be SEND, ACCEPT, DECLINE or REMOVE")
	}
	f, err := s.svc.friends.Update(ctx, actors.ProcessFriendRequest{From: me, To: req.GetUserId(), Action: req.GetAction()})
	if err == nil && (req.GetAction() == pb.FriendAction_SEND || req.GetAction() == pb.FriendAction_ACCEPT) {
		s.emitFriend(ctx, me.GetId(), f)
	}
	return f, s.toStatus(ctx, err)
}

func (s *server) ListFriends(ctx context.Context, _ *pb.ListFriendsRequest) (*pb.ListFriendsResponse, error) {
	me, _, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.friends.List(ctx, me.GetId())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	return &pb.ListFriendsResponse{Friends: list}, nil
}

// UpdatePresence is called by the edge on a user's behalf (identity
// metadata from auth.OutgoingContext, or the user's token): it records the
// presence in the state service (SetOnline/SetOffline) and tells the
// user's friends. Admins may report anyone's presence.
func (s *server) UpdatePresence(ctx context.Context, req *pb.UpdatePresenceRequest) (*pb.Presence, error) {
	id, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if id.UserID != req.GetUserId() && !id.Has(pb.Role_ADMIN) && !id.Internal() {
		return nil, refuse(pb.ErrorReason_PERMISSION_DENIED, "presence of another user")
	}
	verr := validate.ID("user_id", req.GetUserId())
	for field, v := range map[string]string{"room_id": req.GetRoomId(), "instance_id": req.GetInstanceId(), "connection_id": req.GetConnectionId()} {
		if v != "" {
			verr = errors.Join(verr, validate.ID(field, v))
		}
	}
	if verr != nil {
		return nil, s.toStatus(ctx, verr)
	}
	p, err := s.svc.friends.Presence(ctx, req)
	return p, s.toStatus(ctx, err)
}

// identity is the caller, if any.
func (s *server) identity(ctx context.Context) (auth.Identity, error) { return auth.Require(ctx) }
