// Package statefake is an in-memory pb.StateServiceServer with the subset
// of the state service that the user service calls (users, presence,
// friends, user events, refresh tokens, rate limits), for tests until the
// real state service can be started in them. Methods it does not need
// answer Unimplemented.
package statefake

import (
	"context"
	"sync"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server is the fake. It is safe for concurrent use.
type Server struct {
	pb.UnimplementedStateServiceServer

	now func() time.Time

	mu       sync.Mutex
	users    map[string]*pb.User
	presence map[string]*pb.Presence
	friends  map[string]map[string]pb.FriendStatus
	tokens   map[string]*token
	families map[string]bool // revoked
	hits     map[string]*window
	events   []*pb.UserEvent
	subs     []chan *pb.UserEvent
}

type token struct {
	rec      *pb.RefreshTokenRecord
	expires  time.Time
	consumed bool
}

type window struct {
	start time.Time
	n     int32
}

var _ pb.StateServiceServer = (*Server)(nil)

// New returns an empty fake; now is its clock (nil means time.Now).
func New(now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{
		now: now, users: map[string]*pb.User{}, presence: map[string]*pb.Presence{},
		friends: map[string]map[string]pb.FriendStatus{}, tokens: map[string]*token{},
		families: map[string]bool{}, hits: map[string]*window{},
	}
}

func (s *Server) GetUser(_ context.Context, r *pb.GetUserRequest) (*pb.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[r.GetUserId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "user not found")
	}
	return proto.Clone(u).(*pb.User), nil
}

func (s *Server) SaveUser(_ context.Context, r *pb.SaveUserRequest) (*pb.User, error) {
	if r.GetUser().GetId() == "" {
		return nil, status.Error(codes.InvalidArgument, "user id required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[r.GetUser().GetId()] = proto.Clone(r.GetUser()).(*pb.User)
	return r.GetUser(), nil
}

func (s *Server) SetOnline(_ context.Context, r *pb.SetOnlineRequest) (*pb.Presence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &pb.Presence{UserId: r.GetUserId(), Online: true, InstanceId: r.GetInstanceId(), ConnectionId: r.GetConnectionId(), Since: timestamppb.New(s.now())}
	if old, ok := s.presence[r.GetUserId()]; ok {
		p.RoomId = old.GetRoomId()
	}
	s.presence[r.GetUserId()] = p
	return proto.Clone(p).(*pb.Presence), nil
}

func (s *Server) SetOffline(_ context.Context, r *pb.SetOfflineRequest) (*pb.Presence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.presence[r.GetUserId()]; ok && (r.GetConnectionId() == "" || old.GetConnectionId() == r.GetConnectionId()) {
		delete(s.presence, r.GetUserId())
	}
	return &pb.Presence{UserId: r.GetUserId(), Since: timestamppb.New(s.now())}, nil
}

// SetRoom sets the room of an online user, as the state service's
// AddUserToRoom does.
func (s *Server) SetRoom(userID, roomID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.presence[userID]; ok {
		p.RoomId = roomID
	}
}

func (s *Server) GetPresence(_ context.Context, r *pb.GetPresenceRequest) (*pb.GetPresenceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &pb.GetPresenceResponse{}
	for _, id := range r.GetUserIds() {
		if p, ok := s.presence[id]; ok {
			resp.Presences = append(resp.Presences, proto.Clone(p).(*pb.Presence))
		}
	}
	return resp, nil
}

func (s *Server) SetFriendStatus(_ context.Context, r *pb.SetFriendStatusRequest) (*emptypb.Empty, error) {
	a, b := r.GetUserId(), r.GetOtherId()
	if a == "" || b == "" || a == b {
		return nil, status.Error(codes.InvalidArgument, "two distinct users required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set := func(x, y string, st pb.FriendStatus) {
		if st == pb.FriendStatus_FRIEND_STATUS_UNSPECIFIED {
			delete(s.friends[x], y)
			return
		}
		if s.friends[x] == nil {
			s.friends[x] = map[string]pb.FriendStatus{}
		}
		s.friends[x][y] = st
	}
	switch st := r.GetStatus(); st {
	case pb.FriendStatus_OUTGOING:
		set(a, b, pb.FriendStatus_OUTGOING)
		set(b, a, pb.FriendStatus_INCOMING)
	case pb.FriendStatus_INCOMING:
		set(a, b, pb.FriendStatus_INCOMING)
		set(b, a, pb.FriendStatus_OUTGOING)
	default:
		set(a, b, st)
		set(b, a, st)
	}
	return &emptypb.Empty{}, nil
}

func (s *Server) ListFriendIDs(_ context.Context, r *pb.ListFriendIDsRequest) (*pb.ListFriendIDsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &pb.ListFriendIDsResponse{}
	for id, st := range s.friends[r.GetUserId()] {
		resp.Friends = append(resp.Friends, &pb.FriendEntry{UserId: id, Status: st})
	}
	return resp, nil
}

func (s *Server) PublishUserEvent(_ context.Context, e *pb.UserEvent) (*pb.PublishResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, proto.Clone(e).(*pb.UserEvent))
	for _, c := range s.subs {
		select {
		case c <- proto.Clone(e).(*pb.UserEvent):
		default:
		}
	}
	return &pb.PublishResponse{Receivers: int64(len(s.subs))}, nil
}

// Events returns the user events published so far.
func (s *Server) Events() []*pb.UserEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*pb.UserEvent(nil), s.events...)
}

// Subscribe returns a channel receiving every user event published from
// now on (dropped when 64 are pending).
func (s *Server) Subscribe() <-chan *pb.UserEvent {
	c := make(chan *pb.UserEvent, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, c)
	return c
}

func (s *Server) StoreRefreshToken(_ context.Context, r *pb.StoreRefreshTokenRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[r.GetTokenId()] = &token{
		rec:     &pb.RefreshTokenRecord{UserId: r.GetUserId(), FamilyId: r.GetFamilyId()},
		expires: s.now().Add(r.GetTtl().AsDuration()),
	}
	return &emptypb.Empty{}, nil
}

func (s *Server) ConsumeRefreshToken(_ context.Context, r *pb.ConsumeRefreshTokenRequest) (*pb.RefreshTokenRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[r.GetTokenId()]
	if !ok || !s.now().Before(t.expires) || s.families[t.rec.GetFamilyId()] {
		return nil, status.Error(codes.NotFound, "refresh token not found")
	}
	rec := proto.Clone(t.rec).(*pb.RefreshTokenRecord)
	rec.Reused = t.consumed
	t.consumed = true
	return rec, nil
}

func (s *Server) RevokeTokenFamily(_ context.Context, r *pb.RevokeTokenFamilyRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.families[r.GetFamilyId()] = true
	return &emptypb.Empty{}, nil
}

func (s *Server) Hit(_ context.Context, r *pb.HitRequest) (*pb.HitResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, win := s.now(), r.GetWindow().AsDuration()
	w, ok := s.hits[r.GetKey()]
	if !ok || !now.Before(w.start.Add(win)) {
		w = &window{start: now}
		s.hits[r.GetKey()] = w
	}
	w.n++
	if w.n > r.GetLimit() {
		return &pb.HitResponse{Allowed: false, RetryAfter: durationpb.New(w.start.Add(win).Sub(now))}, nil
	}
	return &pb.HitResponse{Allowed: true, Remaining: r.GetLimit() - w.n}, nil
}
