package server

import (
	"context"

	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

func (s *Server) GetUser(ctx context.Context, req *pb.GetUserRequest) (*pb.User, error) {
	if err := checkID("user_id", req.GetUserId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.User, error) {
		return s.eng.GetUser(ctx, req.GetUserId())
	})
}

func (s *Server) SaveUser(ctx context.Context, req *pb.SaveUserRequest) (*pb.User, error) {
	u := req.GetUser()
	if u == nil {
		return nil, toStatus(invalidf("user is required"))
	}
	if err := firstErr(checkID("user.id", u.GetId()), checkUser(u)); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.User, error) {
		return u, s.eng.SaveUser(ctx, u)
	})
}

// checkUser checks the free-form fields of a user record.
func checkUser(u *pb.User) error {
	if len(u.GetBadges()) > 64 {
		return invalidf("user has more than 64 badges")
	}
	return firstErr(
		checkText("user.username", u.GetUsername(), maxNameRunes),
		checkText("user.display_name", u.GetDisplayName(), maxNameRunes),
		checkColor("user.color", u.GetColor()),
		checkText("user.status_text", u.GetStatusText(), maxChatRunes),
		checkText("user.description", u.GetDescription(), maxTextRunes),
	)
}

func (s *Server) SetOnline(ctx context.Context, req *pb.SetOnlineRequest) (*pb.Presence, error) {
	if err := firstErr(
		checkID("user_id", req.GetUserId()),
		checkID("instance_id", req.GetInstanceId()),
		checkID("connection_id", req.GetConnectionId()),
		checkOptionalID("room_id", req.GetRoomId()),
	); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.Presence, error) {
		return s.eng.SetOnline(ctx, req.GetUserId(), req.GetInstanceId(), req.GetConnectionId(), req.GetRoomId())
	})
}

func (s *Server) SetOffline(ctx context.Context, req *pb.SetOfflineRequest) (*pb.Presence, error) {
	if err := firstErr(checkID("user_id", req.GetUserId()), checkOptionalID("connection_id", req.GetConnectionId())); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.Presence, error) {
		return s.eng.SetOffline(ctx, req.GetUserId(), req.GetConnectionId())
	})
}

// GetPresence reads many users at once in one pipeline.
func (s *Server) GetPresence(ctx context.Context, req *pb.GetPresenceRequest) (*pb.GetPresenceResponse, error) {
	ids := req.GetUserIds()
	if len(ids) > maxPresenceIDs {
		return nil, toStatus(invalidf("at most %d user_ids", maxPresenceIDs))
	}
	for _, id := range ids {
		if err := checkID("user_ids", id); err != nil {
			return nil, toStatus(err)
		}
	}
	ps, err := s.eng.Live.Presence(ctx, ids)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.GetPresenceResponse{Presences: ps}, nil
}

func (s *Server) ListInstancePresence(ctx context.Context, req *pb.ListInstancePresenceRequest) (*pb.GetPresenceResponse, error) {
	if err := checkID("instance_id", req.GetInstanceId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.GetPresenceResponse, error) {
		ps, err := s.eng.Live.InstancePresence(ctx, req.GetInstanceId())
		if err != nil {
			return nil, err
		}
		return &pb.GetPresenceResponse{Presences: ps}, nil
	})
}

func (s *Server) SetFriendStatus(ctx context.Context, req *pb.SetFriendStatusRequest) (*emptypb.Empty, error) {
	if err := firstErr(checkID("user_id", req.GetUserId()), checkID("other_id", req.GetOtherId())); err != nil {
		return nil, toStatus(err)
	}
	if req.GetUserId() == req.GetOtherId() {
		return nil, toStatus(invalidf("user_id and other_id must differ"))
	}
	if _, ok := pb.FriendStatus_name[int32(req.GetStatus())]; !ok {
		return nil, toStatus(invalidf("unknown friend status %d", req.GetStatus()))
	}
	return run(ctx, s, func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.SetFriendStatus(ctx, req.GetUserId(), req.GetOtherId(), req.GetStatus())
	})
}

func (s *Server) ListFriendIDs(ctx context.Context, req *pb.ListFriendIDsRequest) (*pb.ListFriendIDsResponse, error) {
	if err := checkID("user_id", req.GetUserId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.ListFriendIDsResponse, error) {
		fs, err := s.eng.Friends(ctx, req.GetUserId())
		if err != nil {
			return nil, err
		}
		return &pb.ListFriendIDsResponse{Friends: fs}, nil
	})
}
