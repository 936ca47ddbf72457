package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// SaveChat keeps m in the room's recent chat and queues it for the archive
// (at least once, idempotent by id). It fills an empty id and sent_at.
func (e *Engine) SaveChat(ctx context.Context, m *pb.ChatMessage) (*pb.ChatMessage, error) {
	m = proto.Clone(m).(*pb.ChatMessage)
	if m.Id == "" {
		m.Id = uuid.NewString()
	}
	if m.SentAt == nil {
		m.SentAt = timestamppb.New(e.now())
	}
	err := e.Live.AppendChat(ctx, m)
	if errors.Is(err, live.ErrNotFound) {
		if _, err = e.GetRoom(ctx, m.GetRoomId()); err != nil {
			return nil, err
		}
		err = e.Live.AppendChat(ctx, m)
	}
	if errors.Is(err, live.ErrChatCold) {
		err = e.warmChat(ctx, m.GetRoomId(), m)
	}
	if err != nil {
		return nil, err
	}
	if err := e.Writer.Tell(ctx, archive.SaveChat{Msg: m}); err != nil {
		return nil, fmt.Errorf("queue chat for archive: %w", err)
	}
	return m, nil
}

// warmChat seeds a cold chat list from the archive (then appends next) and
// returns the seeded history.
func (e *Engine) warmChat(ctx context.Context, roomID string, next *pb.ChatMessage) error {
	_, err := e.loadChat(ctx, roomID, next)
	return err
}

func (e *Engine) loadChat(ctx context.Context, roomID string, next *pb.ChatMessage) ([]*pb.ChatMessage, error) {
	room, err := e.GetRoom(ctx, roomID)
	if err != nil {
		return nil, err
	}
	hist, err := actor.Ask[[]*pb.ChatMessage](ctx, e.Writer, archive.LoadChat{
		RoomID: roomID, Since: room.GetCreatedAt().AsTime(), N: e.ChatKeep,
	})
	if err != nil {
		return nil, fmt.Errorf("load chat of %q from archive: %w", roomID, err)
	}
	if err := e.Live.SeedChat(ctx, roomID, hist, next); err != nil {
		return nil, err
	}
	return hist, nil
}

// ChatHistory returns the last limit messages, oldest first, reloading them
// from the archive when Redis has none.
func (e *Engine) ChatHistory(ctx context.Context, roomID string, limit int) ([]*pb.ChatMessage, error) {
	msgs, loaded, err := e.Live.Chat(ctx, roomID, limit)
	if err != nil || loaded {
		return msgs, err
	}
	hist, err := e.loadChat(ctx, roomID, nil)
	if err != nil {
		return nil, err
	}
	if len(hist) > limit {
		hist = hist[len(hist)-limit:]
	}
	return hist, nil
}

// DeleteChat removes one message from the recent chat and marks it deleted
// in the archive (where it may be even when Redis no longer has it).
func (e *Engine) DeleteChat(ctx context.Context, roomID, msgID string) error {
	if _, err := e.GetRoom(ctx, roomID); err != nil {
		return err
	}
	if _, err := e.Live.DeleteChat(ctx, roomID, msgID); err != nil {
		return err
	}
	if err := e.Writer.Tell(ctx, archive.DeleteChat{RoomID: roomID, MessageID: msgID}); err != nil {
		return fmt.Errorf("queue chat delete for archive: %w", err)
	}
	return nil
}

// ClearChat empties the room's chat; archived messages are marked cleared
// so no recovery brings them back.
func (e *Engine) ClearChat(ctx context.Context, roomID string) error {
	if _, err := e.GetRoom(ctx, roomID); err != nil {
		return err
	}
	if err := e.Live.ClearChat(ctx, roomID); err != nil {
		return err
	}
	if err := e.Writer.Tell(ctx, archive.ClearChat{RoomID: roomID}); err != nil {
		return fmt.Errorf("queue chat clear for archive: %w", err)
	}
	return nil
}
