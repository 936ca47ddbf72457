// Package statefake is an in-memory pb.StateServiceServer with the room
// semantics the room service relies on (atomic join checks, bans with
// expiry, chat history, fixed-window Hit). It exists for the room
// service's unit tests; integration tests use the real state service.
package statefake

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/rpc"
)

// Server is the fake. Safe for concurrent use.
type Server struct {
	pb.UnimplementedStateServiceServer
	Now func() time.Time

	mu      sync.Mutex
	rooms   map[string]*pb.Room
	members map[string][]*pb.Member
	bans    map[string]time.Time // room/user -> until
	chat    map[string][]*pb.ChatMessage
	config  *pb.ServerConfig
	hits    map[string]*window
	events  []*pb.RoomEvent
	users   map[string]*pb.User
}

type window struct {
	start time.Time
	n     int32
}

// New returns an empty fake using now as its clock (nil: time.Now).
func New(now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{
		Now: now, rooms: map[string]*pb.Room{}, members: map[string][]*pb.Member{},
		bans: map[string]time.Time{}, chat: map[string][]*pb.ChatMessage{},
		config: &pb.ServerConfig{}, hits: map[string]*window{}, users: map[string]*pb.User{},
	}
}

// Events returns the published room events of roomID so far.
func (s *Server) Events(roomID string) []*pb.RoomEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pb.RoomEvent
	for _, e := range s.events {
		if e.GetRoomId() == roomID {
			out = append(out, e)
		}
	}
	return out
}

func (s *Server) roomOut(r *pb.Room) *pb.Room {
	c := proto.CloneOf(r)
	c.MemberCount = int32(len(s.members[r.GetId()]))
	return c
}

func (s *Server) GetUser(_ context.Context, req *pb.GetUserRequest) (*pb.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[req.GetUserId()]; u != nil {
		return proto.CloneOf(u), nil
	}
	return nil, rpc.Refuse(pb.ErrorReason_NOT_FOUND, "no such user")
}

func (s *Server) SaveUser(_ context.Context, req *pb.SaveUserRequest) (*pb.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[req.GetUser().GetId()] = proto.CloneOf(req.GetUser())
	return req.GetUser(), nil
}

func (s *Server) AddUserToRoom(_ context.Context, req *pb.AddUserToRoomRequest) (*pb.AddUserToRoomResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := req.GetRoomId()
	r := s.rooms[id]
	if r == nil {
		return nil, rpc.Refuse(pb.ErrorReason_NOT_FOUND, "no such room")
	}
	uid := req.GetMember().GetUser().GetId()
	ms := s.members[id]
	for i, m := range ms {
		if m.GetUser().GetId() == uid {
			prev := m.GetConnectionId()
			ms[i] = proto.CloneOf(req.GetMember())
			return &pb.AddUserToRoomResponse{Room: s.roomOut(r), AlreadyMember: true, PreviousConnectionId: prev}, nil
		}
	}
	if !req.GetStaff() && (s.config.GetMaintenance() || r.GetSettings().GetMaintenance()) {
		return nil, rpc.Refuse(pb.ErrorReason_MAINTENANCE, "maintenance")
	}
	if until, ok := s.bans[id+"/"+uid]; ok && s.Now().Before(until) {
		return nil, rpc.Refuse(pb.ErrorReason_BANNED, "banned")
	}
	limit := r.GetSettings().GetMaxPlayers()
	if limit > 0 && int32(len(ms)) >= limit {
		return nil, rpc.Refuse(pb.ErrorReason_ROOM_FULL, "full")
	}
	s.members[id] = append(ms, proto.CloneOf(req.GetMember()))
	return &pb.AddUserToRoomResponse{Room: s.roomOut(r)}, nil
}

func (s *Server) RemoveUserFromRoom(_ context.Context, req *pb.RemoveUserFromRoomRequest) (*pb.RemoveUserFromRoomResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.members[req.GetRoomId()]
	for i, m := range ms {
		if m.GetUser().GetId() == req.GetUserId() && (req.GetConnectionId() == "" || req.GetConnectionId() == m.GetConnectionId()) {
			s.members[req.GetRoomId()] = slices.Delete(ms, i, i+1)
			return &pb.RemoveUserFromRoomResponse{Removed: true, MemberCount: int32(len(ms) - 1)}, nil
		}
	}
	return &pb.RemoveUserFromRoomResponse{MemberCount: int32(len(ms))}, nil
}

func (s *Server) GetRoom(_ context.Context, req *pb.GetRoomRequest) (*pb.Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[req.GetRoomId()]
	if r == nil {
		return nil, rpc.Refuse(pb.ErrorReason_NOT_FOUND, "no such room")
	}
	return s.roomOut(r), nil
}

func (s *Server) SaveRoom(_ context.Context, req *pb.SaveRoomRequest) (*pb.Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := req.GetRoom()
	if req.GetCreateOnly() && s.rooms[r.GetId()] != nil {
		return nil, rpc.Refuse(pb.ErrorReason_ALREADY_EXISTS, "exists")
	}
	s.rooms[r.GetId()] = proto.CloneOf(r)
	return s.roomOut(r), nil
}

func (s *Server) DeleteRoom(_ context.Context, req *pb.DeleteRoomRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rooms, req.GetRoomId())
	delete(s.members, req.GetRoomId())
	delete(s.chat, req.GetRoomId())
	return &emptypb.Empty{}, nil
}

func (s *Server) ListRooms(_ context.Context, req *pb.ListRoomsRequest) (*pb.ListRoomsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &pb.ListRoomsResponse{}
	for _, r := range s.rooms {
		if req.GetIncludePrivate() || r.GetSettings().GetPublic() {
			out.Rooms = append(out.Rooms, s.roomOut(r))
		}
	}
	sort.Slice(out.Rooms, func(i, j int) bool { return out.Rooms[i].GetId() < out.Rooms[j].GetId() })
	return out, nil
}

func (s *Server) RoomMembers(_ context.Context, req *pb.RoomMembersRequest) (*pb.RoomMembersResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &pb.RoomMembersResponse{}
	for _, m := range s.members[req.GetRoomId()] {
		out.Members = append(out.Members, proto.CloneOf(m))
	}
	return out, nil
}

func (s *Server) BanFromRoom(_ context.Context, req *pb.BanFromRoomRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bans[req.GetRoomId()+"/"+req.GetUserId()] = s.Now().Add(req.GetDuration().AsDuration())
	return &emptypb.Empty{}, nil
}

func (s *Server) UnbanFromRoom(_ context.Context, req *pb.UnbanFromRoomRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bans, req.GetRoomId()+"/"+req.GetUserId())
	return &emptypb.Empty{}, nil
}

func (s *Server) SaveChatMessage(_ context.Context, req *pb.SaveChatMessageRequest) (*pb.ChatMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := req.GetMessage()
	h := append(s.chat[m.GetRoomId()], proto.CloneOf(m))
	if len(h) > 100 {
		h = h[len(h)-100:]
	}
	s.chat[m.GetRoomId()] = h
	return m, nil
}

func (s *Server) ChatHistory(_ context.Context, req *pb.ChatHistoryRequest) (*pb.ChatHistoryResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.chat[req.GetRoomId()]
	if n := int(req.GetLimit()); n > 0 && len(h) > n {
		h = h[len(h)-n:]
	}
	return &pb.ChatHistoryResponse{Messages: slices.Clone(h)}, nil
}

func (s *Server) DeleteChatMessage(_ context.Context, req *pb.DeleteChatMessageRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat[req.GetRoomId()] = slices.DeleteFunc(s.chat[req.GetRoomId()], func(m *pb.ChatMessage) bool { return m.GetId() == req.GetMessageId() })
	return &emptypb.Empty{}, nil
}

func (s *Server) ClearChat(_ context.Context, req *pb.ClearChatRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.chat, req.GetRoomId())
	return &emptypb.Empty{}, nil
}

func (s *Server) GetConfig(context.Context, *pb.GetConfigRequest) (*pb.ServerConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return proto.CloneOf(s.config), nil
}

func (s *Server) SetConfig(_ context.Context, req *pb.SetConfigRequest) (*pb.ServerConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = proto.CloneOf(req.GetConfig())
	return proto.CloneOf(s.config), nil
}

func (s *Server) PublishRoomEvent(_ context.Context, e *pb.RoomEvent) (*pb.PublishResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, proto.CloneOf(e))
	return &pb.PublishResponse{}, nil
}

func (s *Server) Hit(_ context.Context, req *pb.HitRequest) (*pb.HitResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	w := s.hits[req.GetKey()]
	if w == nil || !now.Before(w.start.Add(req.GetWindow().AsDuration())) {
		w = &window{start: now}
		s.hits[req.GetKey()] = w
	}
	if w.n >= req.GetLimit() {
		return &pb.HitResponse{Allowed: false}, nil
	}
	w.n++
	return &pb.HitResponse{Allowed: true, Remaining: req.GetLimit() - w.n}, nil
}
