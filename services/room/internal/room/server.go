package room

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
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
	return public(r), nil
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
		if !id.Staff() && !id.Internal() {
			return nil, refuse(ReasonPermission, "only staff may list private rooms")
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
		out.Rooms = append(out.Rooms, public(r))
	}
	return out, nil
}

// UpdateRoomSettings changes the settings the request sets.
func (s *Server) UpdateRoomSettings(ctx context.Context, req *pb.UpdateRoomSettingsRequest) (*pb.Room, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	return askAs[*pb.Room](ctx, s.m, rid, updateRoomSettings{caller: id, settings: req.GetSettings()})
}

// DeleteRoom deletes a room (owner or staff; never a lobby).
func (s *Server) DeleteRoom(ctx context.Context, req *pb.DeleteRoomRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if lobbyIndex(rid) > 0 {
		return nil, refuse(ReasonPermission, "lobbies cannot be deleted")
	}
	if _, err := s.m.ask(ctx, rid, deleteCmd{caller: id}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
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

// LeaveRoom removes the caller, or with user_id another user (staff and
// internal callers only).
func (s *Server) LeaveRoom(ctx context.Context, req *pb.LeaveRoomRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	target := req.GetUserId()
	if target == "" {
		target = id.UserID
	}
	if target != id.UserID && !id.Staff() && !id.Internal() {
		return nil, refuse(ReasonPermission, "you may only remove yourself")
	}
	reason := strings.TrimSpace(req.GetReason())
	if _, err := s.m.ask(ctx, rid, leaveRoom{userID: target, connectionID: req.GetConnectionId(), reason: reason}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// ListMembers returns a room's members.
func (s *Server) ListMembers(ctx context.Context, req *pb.RoomMembersRequest) (*pb.RoomMembersResponse, error) {
	if _, err := s.caller(ctx); err != nil {
		return nil, err
	}
	rid, err := roomID(req.GetRoomId())
	if err != nil {
		return nil, err
	}
	c := s.m.c
	cctx, cancel := c.call(ctx)
	defer cancel()
	resp, err := c.state.RoomMembers(cctx, &pb.RoomMembersRequest{RoomId: rid})
	if err != nil {
		return nil, fromState("room members", err)
	}
	return resp, nil
}

// Kick removes a member, with an optional ban.
func (s *Server) Kick(ctx context.Context, req *pb.KickRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if req.GetUserId() == "" {
		return nil, refuse(ReasonInvalid, "user_id is required")
	}
	if _, err := s.m.ask(ctx, rid, kickCmd{caller: id, req: req}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// Unban lifts a room ban (owner or staff).
func (s *Server) Unban(ctx context.Context, req *pb.UnbanFromRoomRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
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
	if !id.Staff() && (r.GetLobby() || r.GetOwnerId() != id.UserID) {
		return nil, refuse(ReasonPermission, "only the owner may lift a ban")
	}
	if _, err := c.state.UnbanFromRoom(cctx, &pb.UnbanFromRoomRequest{RoomId: rid, UserId: req.GetUserId()}); err != nil {
		return nil, fromState("unban", err)
	}
	return &emptypb.Empty{}, nil
}

// TransferOwnership gives the room to another member.
func (s *Server) TransferOwnership(ctx context.Context, req *pb.TransferOwnershipRequest) (*pb.Room, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	return askAs[*pb.Room](ctx, s.m, rid, transferCmd{caller: id, userID: req.GetUserId()})
}

// ClaimOwnership takes a free owner's seat.
func (s *Server) ClaimOwnership(ctx context.Context, req *pb.ClaimOwnershipRequest) (*pb.Room, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	return askAs[*pb.Room](ctx, s.m, rid, claimCmd{caller: id})
}

// SendChat posts a chat message.
func (s *Server) SendChat(ctx context.Context, req *pb.SendChatRequest) (*pb.ChatMessage, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	text, err := cleanChat(req.GetText())
	if err != nil {
		return nil, err
	}
	return askAs[*pb.ChatMessage](ctx, s.m, rid, chatCmd{caller: id, text: text})
}

// ChatHistory returns the last messages of a room the caller is in (staff:
// any room).
func (s *Server) ChatHistory(ctx context.Context, req *pb.ChatHistoryRequest) (*pb.ChatHistoryResponse, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	c := s.m.c
	cctx, cancel := c.call(ctx)
	defer cancel()
	if !id.Staff() && !id.Internal() {
		mem, err := c.state.RoomMembers(cctx, &pb.RoomMembersRequest{RoomId: rid})
		if err != nil {
			return nil, fromState("room members", err)
		}
		in := false
		for _, m := range mem.GetMembers() {
			in = in || m.GetUser().GetId() == id.UserID
		}
		if !in {
			return nil, refuse(ReasonNotInRoom, "join the room to read its chat")
		}
	}
	limit := req.GetLimit()
	if limit <= 0 || limit > chatHistoryOnJoin {
		limit = chatHistoryOnJoin
	}
	resp, err := c.state.ChatHistory(cctx, &pb.ChatHistoryRequest{RoomId: rid, Limit: limit})
	if err != nil {
		return nil, fromState("chat history", err)
	}
	return resp, nil
}

// DeleteChatMessage removes one message (moderators).
func (s *Server) DeleteChatMessage(ctx context.Context, req *pb.DeleteChatMessageRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if req.GetMessageId() == "" {
		return nil, refuse(ReasonInvalid, "message_id is required")
	}
	if _, err := s.m.ask(ctx, rid, chatDeleteCmd{caller: id, messageID: req.GetMessageId()}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// ClearChat removes a room's chat (moderators).
func (s *Server) ClearChat(ctx context.Context, req *pb.ClearChatRequest) (*emptypb.Empty, error) {
	id, rid, err := s.callerIn(ctx, req.GetRoomId())
	if err != nil {
		return nil, err
	}
	if _, err := s.m.ask(ctx, rid, chatClearCmd{caller: id}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// SetMaintenance turns server-wide maintenance on or off (admins).
func (s *Server) SetMaintenance(ctx context.Context, req *pb.SetMaintenanceRequest) (*pb.ServerConfig, error) {
	id, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !id.Has(pb.Role_ADMIN) {
		return nil, refuse(ReasonPermission, "only admins may set maintenance")
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
