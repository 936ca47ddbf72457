package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/live"
	"github.com/pianorhythm/server/services/state/internal/shard"
)

func (s *Server) AddUserToRoom(ctx context.Context, req *pb.AddUserToRoomRequest) (*pb.AddUserToRoomResponse, error) {
	m := req.GetMember()
	if err := firstErr(
		checkID("room_id", req.GetRoomId()),
		checkMember(m),
	); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoomId()), func(ctx context.Context) (*pb.AddUserToRoomResponse, error) {
		res, err := s.eng.Join(ctx, req.GetRoomId(), m, req.GetStaff())
		if err != nil {
			return nil, err
		}
		return &pb.AddUserToRoomResponse{Room: res.Room, AlreadyMember: res.AlreadyMember, PreviousConnectionId: res.PreviousConnID}, nil
	})
}

func checkMember(m *pb.Member) error {
	if m == nil || m.GetUser() == nil {
		return invalidf("member.user is required")
	}
	return firstErr(
		checkID("member.user.id", m.GetUser().GetId()),
		checkOptionalID("member.connection_id", m.GetConnectionId()),
		checkOptionalID("member.instance_id", m.GetInstanceId()),
		checkUser(m.GetUser()),
	)
}

func (s *Server) RemoveUserFromRoom(ctx context.Context, req *pb.RemoveUserFromRoomRequest) (*pb.RemoveUserFromRoomResponse, error) {
	if err := firstErr(
		checkID("room_id", req.GetRoomId()),
		checkID("user_id", req.GetUserId()),
		checkOptionalID("connection_id", req.GetConnectionId()),
	); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoomId()), func(ctx context.Context) (*pb.RemoveUserFromRoomResponse, error) {
		removed, n, err := s.eng.Live.Leave(ctx, req.GetRoomId(), req.GetUserId(), req.GetConnectionId())
		if err != nil {
			return nil, err
		}
		return &pb.RemoveUserFromRoomResponse{Removed: removed, MemberCount: int32(n)}, nil
	})
}

func (s *Server) GetRoom(ctx context.Context, req *pb.GetRoomRequest) (*pb.Room, error) {
	if err := checkID("room_id", req.GetRoomId()); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoomId()), func(ctx context.Context) (*pb.Room, error) {
		return s.eng.GetRoom(ctx, req.GetRoomId())
	})
}

func (s *Server) SaveRoom(ctx context.Context, req *pb.SaveRoomRequest) (*pb.Room, error) {
	if err := checkRoom(req.GetRoom()); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoom().GetId()), func(ctx context.Context) (*pb.Room, error) {
		return s.eng.SaveRoom(ctx, req.GetRoom(), req.GetCreateOnly())
	})
}

func checkRoom(r *pb.Room) error {
	if r == nil {
		return invalidf("room is required")
	}
	st := r.GetSettings()
	limit := int32(live.RoomCapacity)
	if r.GetLobby() {
		limit = live.LobbyCapacity
	}
	if n := st.GetMaxPlayers(); n < 0 || n > limit {
		return invalidf("settings.max_players must be 0-%d, got %d", limit, n)
	}
	return firstErr(
		checkID("room.id", r.GetId()),
		checkOptionalID("room.owner_id", r.GetOwnerId()),
		checkText("settings.name", st.GetName(), maxNameRunes),
		checkText("settings.welcome_message", st.GetWelcomeMessage(), maxChatRunes),
		checkColor("settings.color", st.GetColor()),
	)
}

func (s *Server) DeleteRoom(ctx context.Context, req *pb.DeleteRoomRequest) (*emptypb.Empty, error) {
	if err := checkID("room_id", req.GetRoomId()); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoomId()), func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.DeleteRoom(ctx, req.GetRoomId())
	})
}

func (s *Server) ListRooms(ctx context.Context, req *pb.ListRoomsRequest) (*pb.ListRoomsResponse, error) {
	n := int(req.GetPageSize())
	if n < 0 || n > maxPageSize {
		return nil, toStatus(invalidf("page_size must be 0-%d", maxPageSize))
	}
	if n == 0 {
		n = defPageSize
	}
	after, err := decodePageToken(req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomsKey, func(ctx context.Context) (*pb.ListRoomsResponse, error) {
		rooms, next, err := s.eng.ListRooms(ctx, req.GetIncludePrivate(), after, n)
		if err != nil {
			return nil, err
		}
		return &pb.ListRoomsResponse{Rooms: rooms, NextPageToken: encodePageToken(next)}, nil
	})
}

func (s *Server) RoomMembers(ctx context.Context, req *pb.RoomMembersRequest) (*pb.RoomMembersResponse, error) {
	if err := checkID("room_id", req.GetRoomId()); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoomId()), func(ctx context.Context) (*pb.RoomMembersResponse, error) {
		if _, err := s.eng.GetRoom(ctx, req.GetRoomId()); err != nil {
			return nil, err
		}
		ms, err := s.eng.Live.Members(ctx, req.GetRoomId())
		if err != nil {
			return nil, err
		}
		return &pb.RoomMembersResponse{Members: ms}, nil
	})
}

func (s *Server) BanFromRoom(ctx context.Context, req *pb.BanFromRoomRequest) (*emptypb.Empty, error) {
	d, err := checkDuration("duration", req.GetDuration(), maxBan)
	if err == nil {
		err = firstErr(checkID("room_id", req.GetRoomId()), checkID("user_id", req.GetUserId()))
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoomId()), func(ctx context.Context) (*emptypb.Empty, error) {
		if _, err := s.eng.GetRoom(ctx, req.GetRoomId()); err != nil {
			return nil, err
		}
		var until time.Time // zero: until unbanned
		if d > 0 {
			until = s.cfg.Now().Add(d)
		}
		return &emptypb.Empty{}, s.eng.Live.Ban(ctx, req.GetRoomId(), req.GetUserId(), until)
	})
}

func (s *Server) UnbanFromRoom(ctx context.Context, req *pb.UnbanFromRoomRequest) (*emptypb.Empty, error) {
	if err := firstErr(checkID("room_id", req.GetRoomId()), checkID("user_id", req.GetUserId())); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.RoomKey(req.GetRoomId()), func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.Live.Unban(ctx, req.GetRoomId(), req.GetUserId())
	})
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
