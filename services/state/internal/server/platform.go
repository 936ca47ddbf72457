package server

import (
	"context"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/telemetry"
)

// Bounds of durations in requests.
const (
	maxBan          = 10 * 365 * 24 * time.Hour
	maxHeartbeatTTL = time.Hour
	defHeartbeatTTL = 30 * time.Second
	maxTokenTTL     = 365 * 24 * time.Hour
	maxWindow       = 24 * time.Hour
	maxHitLimit     = 1_000_000
	maxRestoreSeats = 100_000
)

func (s *Server) GetConfig(ctx context.Context, _ *pb.GetConfigRequest) (*pb.ServerConfig, error) {
	return run(ctx, s, func(ctx context.Context) (*pb.ServerConfig, error) {
		return s.eng.Config(ctx)
	})
}

func (s *Server) SetConfig(ctx context.Context, req *pb.SetConfigRequest) (*pb.ServerConfig, error) {
	c := req.GetConfig()
	if c == nil {
		return nil, toStatus(invalidf("config is required"))
	}
	if err := checkText("config.motd", c.GetMotd(), maxTextRunes); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.ServerConfig, error) {
		return c, s.eng.SetConfig(ctx, c)
	})
}

// PublishRoomEvent fills event_id, at and, when the caller sent none, the
// trace context of this request, then publishes on the room's channel. The
// state service publishes the events of its own room writes itself; this
// is for notices that change no state (an admin broadcast).
func (s *Server) PublishRoomEvent(ctx context.Context, e *pb.RoomEvent) (*pb.PublishResponse, error) {
	if err := firstErr(checkID("room_id", e.GetRoomId()), checkOptionalID("event_id", e.GetEventId())); err != nil {
		return nil, toStatus(err)
	}
	if e.GetEvent() == nil {
		return nil, toStatus(invalidf("event is required"))
	}
	if e.EventId == "" || e.At == nil || len(e.Trace) == 0 {
		e = proto.Clone(e).(*pb.RoomEvent)
		e.EventId, e.At, e.Trace = s.stamp(ctx, e.EventId, e.At, e.Trace)
	}
	n, err := s.eng.Live.PublishRoomEvent(ctx, e)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.PublishResponse{Receivers: n}, nil
}

// PublishUserEvent is PublishRoomEvent for a user's channel.
func (s *Server) PublishUserEvent(ctx context.Context, e *pb.UserEvent) (*pb.PublishResponse, error) {
	if err := firstErr(checkID("user_id", e.GetUserId()), checkOptionalID("event_id", e.GetEventId())); err != nil {
		return nil, toStatus(err)
	}
	if e.GetEvent() == nil {
		return nil, toStatus(invalidf("event is required"))
	}
	if e.EventId == "" || e.At == nil || len(e.Trace) == 0 {
		e = proto.Clone(e).(*pb.UserEvent)
		e.EventId, e.At, e.Trace = s.stamp(ctx, e.EventId, e.At, e.Trace)
	}
	n, err := s.eng.Live.PublishUserEvent(ctx, e)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.PublishResponse{Receivers: n}, nil
}

func (s *Server) stamp(ctx context.Context, id string, at *timestamppb.Timestamp, trace map[string]string) (string, *timestamppb.Timestamp, map[string]string) {
	if id == "" {
		id = uuid.NewString()
	}
	if at == nil {
		at = timestamppb.New(s.cfg.Now())
	}
	if len(trace) == 0 {
		trace = telemetry.InjectMap(ctx)
	}
	return id, at, trace
}

func (s *Server) Heartbeat(ctx context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	ttl, err := checkDuration("ttl", req.GetTtl(), maxHeartbeatTTL)
	if err == nil {
		err = checkID("instance_id", req.GetInstanceId())
	}
	if err != nil {
		return nil, toStatus(err)
	}
	if ttl == 0 {
		ttl = defHeartbeatTTL
	}
	return run(ctx, s, func(ctx context.Context) (*pb.HeartbeatResponse, error) {
		known, err := s.eng.Live.Heartbeat(ctx, req.GetInstanceId(), ttl, s.cfg.Now())
		if err != nil {
			return nil, err
		}
		return &pb.HeartbeatResponse{Known: known}, nil
	})
}

func (s *Server) ListInstances(ctx context.Context, _ *pb.ListInstancesRequest) (*pb.ListInstancesResponse, error) {
	ids, err := s.eng.Live.Instances(ctx, s.cfg.Now())
	if err != nil {
		return nil, toStatus(err)
	}
	holding, err := s.eng.Live.PresenceInstances(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ListInstancesResponse{InstanceIds: ids, PresenceInstanceIds: holding}, nil
}

func (s *Server) StoreRefreshToken(ctx context.Context, req *pb.StoreRefreshTokenRequest) (*emptypb.Empty, error) {
	ttl, err := checkDuration("ttl", req.GetTtl(), maxTokenTTL)
	if err == nil && ttl == 0 {
		err = invalidf("ttl is required")
	}
	if err == nil {
		err = firstErr(
			checkTokenID("token_id", req.GetTokenId()),
			checkID("user_id", req.GetUserId()),
			checkTokenID("family_id", req.GetFamilyId()),
		)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.Archive.StoreToken(ctx, req.GetTokenId(), req.GetUserId(), req.GetFamilyId(), s.cfg.Now().Add(ttl))
	})
}

func (s *Server) ConsumeRefreshToken(ctx context.Context, req *pb.ConsumeRefreshTokenRequest) (*pb.RefreshTokenRecord, error) {
	if err := checkTokenID("token_id", req.GetTokenId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.RefreshTokenRecord, error) {
		return s.eng.Archive.ConsumeToken(ctx, req.GetTokenId(), s.cfg.Now())
	})
}

func (s *Server) RevokeTokenFamily(ctx context.Context, req *pb.RevokeTokenFamilyRequest) (*emptypb.Empty, error) {
	if err := checkTokenID("family_id", req.GetFamilyId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.Archive.RevokeFamily(ctx, req.GetFamilyId(), s.cfg.Now())
	})
}

// Hit counts one hit of a shared rate limit (one atomic script).
func (s *Server) Hit(ctx context.Context, req *pb.HitRequest) (*pb.HitResponse, error) {
	window, err := checkDuration("window", req.GetWindow(), maxWindow)
	if err == nil && window < time.Millisecond {
		err = invalidf("window must be at least 1ms")
	}
	if err == nil && (req.GetLimit() < 1 || req.GetLimit() > maxHitLimit) {
		err = invalidf("limit must be 1-%d", maxHitLimit)
	}
	if err == nil {
		err = checkHitKey(req.GetKey())
	}
	if err != nil {
		return nil, toStatus(err)
	}
	res, err := s.eng.Live.Hit(ctx, req.GetKey(), int(req.GetLimit()), window, s.eng.Clock(), req.GetPeek())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.HitResponse{Allowed: res.Allowed, Remaining: int32(res.Remaining), RetryAfter: durationpb.New(res.RetryAfter)}, nil
}

func (s *Server) RestoreInstance(ctx context.Context, req *pb.RestoreInstanceRequest) (*pb.RestoreInstanceResponse, error) {
	ttl, err := checkDuration("ttl", req.GetTtl(), maxHeartbeatTTL)
	if err == nil {
		err = checkID("instance_id", req.GetInstanceId())
	}
	if err == nil && len(req.GetSeats()) > maxRestoreSeats {
		err = invalidf("at most %d seats", maxRestoreSeats)
	}
	for _, seat := range req.GetSeats() {
		if err != nil {
			break
		}
		err = firstErr(checkMember(seat.GetMember()), checkID("seats.member.connection_id", seat.GetMember().GetConnectionId()),
			checkOptionalID("seats.room_id", seat.GetRoomId()))
	}
	if err != nil {
		return nil, toStatus(err)
	}
	if ttl == 0 {
		ttl = defHeartbeatTTL
	}
	// Restoring many seats takes longer than one request's work.
	ctx, cancel := context.WithTimeout(ctx, 4*s.cfg.OpTimeout)
	defer cancel()
	lost, err := s.eng.RestoreInstance(ctx, req.GetInstanceId(), ttl, req.GetSeats())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.RestoreInstanceResponse{LostRoomIds: lost}, nil
}
