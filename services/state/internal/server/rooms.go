package server

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/engine"
	"github.com/pianorhythm/server/services/state/internal/live"
)

func (s *Server) AddUserToRoom(ctx context.Context, req *pb.AddUserToRoomRequest) (*pb.AddUserToRoomResponse, error) {
	m := req.GetMember()
	n := int(req.GetChatHistory())
	err := firstErr(
		checkID("room_id", req.GetRoomId()),
		checkMember(m),
		checkUpdate(req.GetRoomUpdate(), req.GetRoomId()),
	)
	if err == nil && (n < 0 || n > s.cfg.ChatHistory) {
		err = invalidf("chat_history must be 0-%d", s.cfg.ChatHistory)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.AddUserToRoomResponse, error) {
		res, err := s.eng.Join(ctx, engine.JoinArgs{
			RoomID: req.GetRoomId(), Member: m, Staff: req.GetStaff(), Version: req.GetVersion(),
			Update: req.GetRoomUpdate(), Chat: n,
		})
		if st, ok := asStale(err); ok {
			return &pb.AddUserToRoomResponse{Room: st, Stale: true}, nil
		}
		if err != nil {
			return nil, err
		}
		return &pb.AddUserToRoomResponse{
			Room: res.Room, AlreadyMember: res.AlreadyMember, PreviousConnectionId: res.PreviousConnID,
			Members: res.Members, ChatHistory: res.Chat,
		}, nil
	})
}

// asStale returns the current room of a write refused for its version.
func asStale(err error) (*pb.Room, bool) {
	var st *live.Stale
	if errors.As(err, &st) {
		return st.Room, true
	}
	return nil, false
}

// checkUpdate checks an optional room update of the room id.
func checkUpdate(r *pb.Room, id string) error {
	if r == nil {
		return nil
	}
	if r.GetId() != id {
		return invalidf("room_update.id must be the request's room_id")
	}
	return checkRoom(r)
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
		checkText("reason", req.GetReason(), maxNameRunes),
		checkUpdate(req.GetRoomUpdate(), req.GetRoomId()),
	); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.RemoveUserFromRoomResponse, error) {
		res, err := s.eng.Leave(ctx, engine.LeaveArgs{
			RoomID: req.GetRoomId(), UserID: req.GetUserId(), ConnID: req.GetConnectionId(), Reason: req.GetReason(),
			Version: req.GetVersion(), Update: req.GetRoomUpdate(),
		})
		if err != nil {
			return nil, err
		}
		return &pb.RemoveUserFromRoomResponse{Removed: res.Removed, MemberCount: int32(res.Count), Room: res.Room, Stale: res.Stale}, nil
	})
}

func (s *Server) GetRoom(ctx context.Context, req *pb.GetRoomRequest) (*pb.Room, error) {
	if err := checkID("room_id", req.GetRoomId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.Room, error) {
		return s.eng.GetRoom(ctx, req.GetRoomId())
	})
}

func (s *Server) SaveRoom(ctx context.Context, req *pb.SaveRoomRequest) (*pb.SaveRoomResponse, error) {
	if err := checkRoom(req.GetRoom()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.SaveRoomResponse, error) {
		var r *pb.Room
		var err error
		if req.GetCreateOnly() {
			r, err = s.eng.CreateRoom(ctx, req.GetRoom())
		} else {
			r, err = s.eng.UpdateRoom(ctx, req.GetRoom(), req.GetVersion())
		}
		if st, ok := asStale(err); ok {
			return &pb.SaveRoomResponse{Room: st, Stale: true}, nil
		}
		if err != nil {
			return nil, err
		}
		return &pb.SaveRoomResponse{Room: r}, nil
	})
}

func checkRoom(r *pb.Room) error {
	if r == nil {
		return invalidf("room is required")
	}
	st := r.GetSettings()
	limit := int32(live.MaxCapacity)
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
	return run(ctx, s, func(ctx context.Context) (*emptypb.Empty, error) {
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
	return run(ctx, s, func(ctx context.Context) (*pb.ListRoomsResponse, error) {
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
	return run(ctx, s, func(ctx context.Context) (*pb.RoomMembersResponse, error) {
		ms, err := s.eng.Members(ctx, req.GetRoomId())
		if err != nil {
			return nil, err
		}
		return &pb.RoomMembersResponse{Members: ms}, nil
	})
}

func (s *Server) KickFromRoom(ctx context.Context, req *pb.KickFromRoomRequest) (*pb.KickFromRoomResponse, error) {
	ban, err := checkSignedDuration("ban", req.GetBan(), maxBan)
	if err == nil {
		err = firstErr(
			checkID("room_id", req.GetRoomId()),
			checkID("user_id", req.GetUserId()),
			checkOptionalID("by_user_id", req.GetByUserId()),
			checkText("reason", req.GetReason(), maxChatRunes),
		)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.KickFromRoomResponse, error) {
		removed, n, err := s.eng.Kick(ctx, req.GetRoomId(), req.GetUserId(), req.GetByUserId(), req.GetReason(), ban)
		if err != nil {
			return nil, err
		}
		return &pb.KickFromRoomResponse{Removed: removed, MemberCount: int32(n)}, nil
	})
}

func (s *Server) UnbanFromRoom(ctx context.Context, req *pb.UnbanFromRoomRequest) (*emptypb.Empty, error) {
	if err := firstErr(checkID("room_id", req.GetRoomId()), checkID("user_id", req.GetUserId())); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.Unban(ctx, req.GetRoomId(), req.GetUserId())
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
