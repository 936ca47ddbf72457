package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/engine"
)

// maxChatRate bounds a chat rate limit (messages per window).
const maxChatRate = 1_000_000

func (s *Server) SaveChatMessage(ctx context.Context, req *pb.SaveChatMessageRequest) (*pb.SaveChatMessageResponse, error) {
	m := req.GetMessage()
	if m == nil {
		return nil, toStatus(invalidf("message is required"))
	}
	userCheck := checkID("message.user_id", m.GetUserId())
	if m.GetSystem() {
		userCheck = checkOptionalID("message.user_id", m.GetUserId())
	}
	window, err := checkDuration("rate_window", req.GetRateWindow(), maxWindow)
	if err == nil && (req.GetRateLimit() < 0 || req.GetRateLimit() > maxChatRate) {
		err = invalidf("rate_limit must be 0-%d", maxChatRate)
	}
	if err == nil && req.GetRateLimit() > 0 && window < time.Millisecond {
		err = invalidf("rate_window must be at least 1ms with a rate_limit")
	}
	if err == nil {
		// The text was sanitized by the room service (pkg/text); this only
		// guards what storage relies on.
		err = firstErr(
			checkID("message.room_id", m.GetRoomId()),
			checkOptionalID("message.id", m.GetId()),
			userCheck,
			checkChatText(m.GetText()),
			checkText("message.display_name", m.GetDisplayName(), maxNameRunes),
			checkColor("message.color", m.GetColor()),
		)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.SaveChatMessageResponse, error) {
		saved, err := s.eng.PostChat(ctx, engine.ChatArgs{Msg: m, Version: req.GetVersion(), Limit: int(req.GetRateLimit()), Window: window})
		if st, ok := asStale(err); ok {
			return &pb.SaveChatMessageResponse{Stale: true, Room: st}, nil
		}
		if err != nil {
			return nil, err
		}
		return &pb.SaveChatMessageResponse{Message: saved}, nil
	})
}

func (s *Server) ChatHistory(ctx context.Context, req *pb.ChatHistoryRequest) (*pb.ChatHistoryResponse, error) {
	limit := int(req.GetLimit())
	if limit < 0 || limit > s.cfg.ChatHistory {
		return nil, toStatus(invalidf("limit must be 0-%d", s.cfg.ChatHistory))
	}
	if limit == 0 {
		limit = s.cfg.ChatHistory
	}
	if err := checkID("room_id", req.GetRoomId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*pb.ChatHistoryResponse, error) {
		msgs, err := s.eng.ChatHistory(ctx, req.GetRoomId(), limit)
		if err != nil {
			return nil, err
		}
		return &pb.ChatHistoryResponse{Messages: msgs}, nil
	})
}

func (s *Server) DeleteChatMessage(ctx context.Context, req *pb.DeleteChatMessageRequest) (*emptypb.Empty, error) {
	if err := firstErr(checkID("room_id", req.GetRoomId()), checkID("message_id", req.GetMessageId())); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.DeleteChat(ctx, req.GetRoomId(), req.GetMessageId())
	})
}

func (s *Server) ClearChat(ctx context.Context, req *pb.ClearChatRequest) (*emptypb.Empty, error) {
	if err := checkID("room_id", req.GetRoomId()); err != nil {
		return nil, toStatus(err)
	}
	return run(ctx, s, func(ctx context.Context) (*emptypb.Empty, error) {
		return &emptypb.Empty{}, s.eng.ClearChat(ctx, req.GetRoomId())
	})
}
