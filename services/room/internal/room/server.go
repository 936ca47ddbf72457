package room

import (
	"context"

	"google.golang.org/grpc"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/roomview"
)

// Server implements pb.RoomServiceServer in front of a Manager.
type Server struct {
	pb.UnimplementedRoomServiceServer
	m        *Manager
	verifier auth.TokenVerifier
}

var _ pb.RoomServiceServer = (*Server)(nil)

// NewServer returns the gRPC handlers of m. verifier checks bearer tokens
// when the hosting server did not install auth.UnaryServerInterceptor.
func NewServer(m *Manager, verifier auth.TokenVerifier) *Server {
	return &Server{m: m, verifier: verifier}
}

// Register registers the handlers on s.
func (s *Server) Register(g *grpc.Server) { pb.RegisterRoomServiceServer(g, s) }

// caller returns the request's identity: set by the auth interceptor, or
// resolved here from the metadata when the host server has none.
// callerIn returns the caller and the validated room id of a request about
// one room.
func (s *Server) callerIn(ctx context.Context, room string) (auth.Identity, string, error) {
	id, err := s.caller(ctx)
	if err != nil {
		return auth.Identity{}, "", err
	}
	rid, err := roomID(room)
	if err != nil {
		return auth.Identity{}, "", err
	}
	return id, rid, nil
}

func (s *Server) caller(ctx context.Context) (auth.Identity, error) {
	if id, ok := auth.FromContext(ctx); ok {
		return id, nil
	}
	ctx, err := auth.Authenticate(ctx, s.verifier)
	if err != nil {
		return auth.Identity{}, err
	}
	return auth.Require(ctx)
}

func roomID(id string) (string, error) {
	if !roomIDPattern.MatchString(id) {
		return "", refuse(ReasonInvalid, "invalid room id")
	}
	return id, nil
}

// CreateRoom creates a room owned by the caller.
func (s *Server) CreateRoom(ctx context.Context, req *pb.CreateRoomRequest) (*pb.Room, error) {
	id, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if id.Internal() {
		return nil, refuse(ReasonPermission, "internal callers do not own rooms")
	}
	return s.m.Create(ctx, id, req.GetRoomId(), req.GetSettings())
}

// GetRoom returns a room (no password hash).
func (s *Server) GetRoom(ctx context.Context, req *pb.GetRoomRequest) (*pb.Room, error) {
	rid, err := roomID(req.GetRoomId())
	if err != nil {
		return nil, err
	}
	c := s.m.c
	cctx, cancel := c.call(ctx)
	defer cancel()
	r, err := c.state.GetRoom(cctx, &pb.GetRoomRequest{RoomId: rid})
	if err != nil {
		return nil, fromState("get room", err)
	}
	return roomview.Public(r), nil
}

// ListRooms lists public rooms with their member counts; staff may ask for
// private rooms too.
func (s *Server) ListRooms(ctx context.Context, req *pb.ListRoomsRequest) (*pb.ListRoomsResponse, error) {
	includePrivate := false
	if req.GetIncludePrivate() {
		id, err := s.caller(ctx)
		if err != nil {
			return nil, err
		}
		if ok, reason := id.May(pb.Action_ACTION_MODERATE); !ok {
			return nil, refuse(reason, "only staff may list private rooms")
		}
		includePrivate = true
	}
	c := s.m.c
	cctx, cancel := c.call(ctx)
	defer cancel()
	resp, err := c.state.ListRooms(cctx, &pb.ListRoomsRequest{IncludePrivate: includePrivate, PageSize: req.GetPageSize(), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, fromState("list rooms", err)
	}
	out := &pb.ListRoomsResponse{NextPageToken: resp.GetNextPageToken(), Rooms: make([]*pb.Room, 0, len(resp.GetRooms()))}
	for _, r := range resp.GetRooms() {
		// Also filtered here: a private room is never listed to users, even
		// if a state replica is older than this rule.
		if !includePrivate && !r.GetSettings().GetPublic() && !r.GetLobby() {
			continue
		}
		out.Rooms = append(out.Rooms, roomview.Public(r))
	}
	return out, nil
}

// JoinRoom puts the caller in a room (see Manager.Join).
func (s *Server) JoinRoom(ctx context.Context, req *pb.JoinRoomRequest) (*pb.JoinRoomResponse, error) {
	id, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if id.Internal() {
		return nil, refuse(ReasonPermission, "internal callers do not join rooms")
	}
	return s.m.Join(ctx, id, req)
}

// SetMaintenance turns server-wide maintenance on or off (admins).
func (s *Server) SetMaintenance(ctx context.Context, req *pb.SetMaintenanceRequest) (*pb.ServerConfig, error) {
	id, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if ok, reason := id.May(pb.Action_ACTION_ADMIN); !ok {
		return nil, refuse(reason, "only admins may set maintenance")
	}
	c := s.m.c
	cctx, cancel := c.call(ctx)
	defer cancel()
	cfg, err := c.state.GetConfig(cctx, &pb.GetConfigRequest{})
	if err != nil {
		return nil, fromState("get config", err)
	}
	cfg.Maintenance = req.GetEnabled()
	out, err := c.state.SetConfig(cctx, &pb.SetConfigRequest{Config: cfg})
	if err != nil {
		return nil, fromState("set config", err)
	}
	return out, nil
}
