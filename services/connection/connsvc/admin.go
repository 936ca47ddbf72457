package connsvc

import (
	"context"
	"fmt"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Register registers the ConnectionService admin RPCs on gs. Callers must
// be staff, moderators or admins (the server's auth interceptor sets the
// identity); anyone else gets PermissionDenied.
func (s *Service) Register(gs *grpc.Server) {
	pb.RegisterConnectionServiceServer(gs, &adminServer{s: s})
}

type adminServer struct {
	pb.UnimplementedConnectionServiceServer
	s *Service
}

var _ pb.ConnectionServiceServer = (*adminServer)(nil)

func requireStaff(ctx context.Context) (auth.Identity, error) {
	id, err := auth.Require(ctx)
	if err != nil {
		return id, err
	}
	if !id.Staff() {
		return id, rpc.Refuse(pb.ErrorReason_PERMISSION_DENIED, "moderators and admins only")
	}
	return id, nil
}

func (a *adminServer) ListConnections(ctx context.Context, req *pb.ListConnectionsRequest) (*pb.ListConnectionsResponse, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	conns, err := a.s.edge.Connections(ctx, req.GetRoomId(), req.GetUserId())
	if err != nil {
		return nil, rpc.Refuse(pb.ErrorReason_UNAVAILABLE, err.Error())
	}
	return &pb.ListConnectionsResponse{Connections: conns}, nil
}

func (a *adminServer) CloseConnection(ctx context.Context, req *pb.CloseConnectionRequest) (*pb.CloseConnectionResponse, error) {
	if _, err := requireStaff(ctx); err != nil {
		return nil, err
	}
	if req.GetConnectionId() == "" && req.GetUserId() == "" {
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "connection_id or user_id is required")
	}
	code := closecode.ServerClosing
	if c := req.GetCode(); c != 0 {
		if c < 4000 || c > 4999 {
			return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "code must be 4000-4999")
		}
		code = closecode.Of(int(c))
	}
	if req.GetReason() != "" {
		code = code.WithReason(req.GetReason())
	}
	n, err := a.s.edge.CloseConnections(ctx, req.GetConnectionId(), req.GetUserId(), code)
	if err != nil {
		return nil, rpc.Refuse(pb.ErrorReason_UNAVAILABLE, err.Error())
	}
	return &pb.CloseConnectionResponse{Closed: int32(n)}, nil
}

// Broadcast posts a system chat line in every room: it is published as a
// room event, so members on every instance see it.
func (a *adminServer) Broadcast(ctx context.Context, req *pb.BroadcastRequest) (*pb.BroadcastResponse, error) {
	id, err := requireStaff(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetText() == "" {
		return nil, rpc.Refuse(pb.ErrorReason_INVALID_ARGUMENT, "text is required")
	}
	out := auth.OutgoingContext(ctx, id)
	n := 0
	token := ""
	for {
		res, err := a.s.deps.State.ListRooms(out, &pb.ListRoomsRequest{IncludePrivate: true, PageSize: 200, PageToken: token})
		if err != nil {
			return nil, rpc.Refuse(pb.ErrorReason_UNAVAILABLE, fmt.Sprintf("list rooms: %v", status.Convert(err).Message()))
		}
		for _, room := range res.GetRooms() {
			msg := &pb.ChatMessage{Id: "sys-" + timestamppb.Now().AsTime().Format("20060102150405.000000000"),
				RoomId: room.GetId(), UserId: id.UserID, DisplayName: "Server", Text: req.GetText(),
				SentAt: timestamppb.Now(), System: true}
			_, err := a.s.deps.State.PublishRoomEvent(out, &pb.RoomEvent{
				RoomId: room.GetId(), EventId: msg.GetId(), At: msg.GetSentAt(), OriginInstance: a.s.cfg.InstanceID,
				Event: &pb.RoomEvent_Chat{Chat: &pb.ChatPosted{Message: msg}},
			})
			if err != nil {
				return nil, rpc.Refuse(pb.ErrorReason_UNAVAILABLE, fmt.Sprintf("publish broadcast to %s: %v", room.GetId(), status.Convert(err).Message()))
			}
			n++
		}
		if token = res.GetNextPageToken(); token == "" {
			break
		}
	}
	return &pb.BroadcastResponse{Rooms: int32(n)}, nil
}
