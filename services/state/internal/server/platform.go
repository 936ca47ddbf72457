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
	"github.com/pianorhythm/server/services/state/internal/shard"
)

// Bounds of durations in requests.
const (
	maxBan          = 10 * 365 * 24 * time.Hour
	maxHeartbeatTTL = time.Hour
	defHeartbeatTTL = 30 * time.Second
	maxTokenTTL     = 365 * 24 * time.Hour
	maxWindow       = 24 * time.Hour
	maxHitLimit     = 1_000_000
)

func (s *Server) GetConfig(ctx context.Context, _ *pb.GetConfigRequest) (*pb.ServerConfig, error) {
	return call(ctx, s, shard.ConfigKey, func(ctx context.Context) (*pb.ServerConfig, error) {
		return s.eng.Live.Config(ctx)
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
	return call(ctx, s, shard.ConfigKey, func(ctx context.Context) (*pb.ServerConfig, error) {
		return c, s.eng.Live.SetConfig(ctx, c)
	})
}

// PublishRoomEvent fills event_id, at and, when the caller sent none, the
// trace context of this request, then publishes on the room's channel.
// Publishing needs no per-key order beyond the caller's own, so it runs in
// the caller's goroutine.
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
	return call(ctx, s, shard.InstanceKey(req.GetInstanceId()), func(ctx context.Context) (*pb.HeartbeatResponse, error) {
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
	return call(ctx, s, shard.TokenKey(req.GetTokenId()), func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.Live.StoreToken(ctx, req.GetTokenId(), req.GetUserId(), req.GetFamilyId(), ttl)
	})
}

func (s *Server) ConsumeRefreshToken(ctx context.Context, req *pb.ConsumeRefreshTokenRequest) (*pb.RefreshTokenRecord, error) {
	if err := checkTokenID("token_id", req.GetTokenId()); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.TokenKey(req.GetTokenId()), func(ctx context.Context) (*pb.RefreshTokenRecord, error) {
		return s.eng.Live.ConsumeToken(ctx, req.GetTokenId())
	})
}

func (s *Server) RevokeTokenFamily(ctx context.Context, req *pb.RevokeTokenFamilyRequest) (*emptypb.Empty, error) {
	if err := checkTokenID("family_id", req.GetFamilyId()); err != nil {
		return nil, toStatus(err)
	}
	return call(ctx, s, shard.TokenKey(req.GetFamilyId()), func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.Live.RevokeFamily(ctx, req.GetFamilyId(), s.cfg.RevokedFamilyTTL)
	})
}

// Hit runs in the caller's goroutine: the script is atomic on its own and
// rate limits are on hot paths (logins, joins).
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
	res, err := s.eng.Live.Hit(ctx, req.GetKey(), int(req.GetLimit()), window, s.eng.Clock())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.HitResponse{Allowed: res.Allowed, Remaining: int32(res.Remaining), RetryAfter: durationpb.New(res.RetryAfter)}, nil
}
