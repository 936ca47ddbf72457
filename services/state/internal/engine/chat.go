package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// ChatArgs is one SaveChatMessage.
type ChatArgs struct {
	Msg     *pb.ChatMessage
	Version int64
	Limit   int
	Window  time.Duration
}

// PostChat is a whole chat command (see live.Store.PostChat): it fills an
// empty id and sent_at, and the sender's name and color from their seat
// when the message has none; restores a room Redis lost and loads a cold
// chat list from the archive; then queues the message for the archive (at
// least once, idempotent by id).
func (e *Engine) PostChat(ctx context.Context, c ChatArgs) (*pb.ChatMessage, error) {
	m := proto.CloneOf(c.Msg)
	if m.Id == "" {
		m.Id = uuid.NewString()
	}
	if m.SentAt == nil {
		m.SentAt = timestamppb.New(e.now())
	}
	roomID := m.GetRoomId()
	if !m.GetSystem() && (m.GetDisplayName() == "" || m.GetColor() == "") {
		seat, err := e.Live.Member(ctx, roomID, m.GetUserId())
		if err != nil {
			return nil, err
		}
		if m.DisplayName == "" {
			m.DisplayName = seat.GetUser().GetDisplayName()
		}
		if m.Color == "" {
			m.Color = seat.GetUser().GetColor()
		}
	}
	post := live.ChatPost{Msg: m, Version: c.Version, Limit: c.Limit, Window: c.Window, Now: e.now(),
		Event: e.event(ctx, roomID, func(ev *pb.RoomEvent) {
			ev.Event = &pb.RoomEvent_Chat{Chat: &pb.ChatPosted{Message: m}}
		})}
	restored, loaded := false, false
	for {
		err := e.Live.PostChat(ctx, post)
		switch {
		case err == nil:
			if err := e.archive(ctx, archive.SaveChat{Msg: m}); err != nil {
				return nil, fmt.Errorf("queue chat for archive: %w", err)
			}
			return m, nil
		case errors.Is(err, live.ErrNotFound) && !restored:
			restored = true
			if _, err := e.restoreRoom(ctx, roomID); err != nil {
				return nil, err
			}
		case errors.Is(err, live.ErrChatCold) && !loaded:
			loaded = true
			room, err := e.GetRoom(ctx, roomID)
			if err != nil {
				return nil, err
			}
			if _, err := e.loadChat(ctx, room); err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
	}
}

// loadChat seeds a cold chat list from the archive and returns the
// seeded history: the room's last messages sent since it was created.
func (e *Engine) loadChat(ctx context.Context, room *pb.Room) ([]*pb.ChatMessage, error) {
	hist, err := actor.Ask[[]*pb.ChatMessage](ctx, e.Writer, archive.LoadChat{
		RoomID: room.GetId(), Since: room.GetCreatedAt().AsTime(), N: e.ChatKeep,
	})
	if err != nil {
		return nil, fmt.Errorf("load chat of %q from archive: %w", room.GetId(), err)
	}
	if err := e.Live.SeedChat(ctx, room.GetId(), hist); err != nil {
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
	room, err := e.GetRoom(ctx, roomID)
	if err != nil {
		return nil, err
	}
	hist, err := e.loadChat(ctx, room)
	if err != nil {
		return nil, err
	}
	if len(hist) > limit {
		hist = hist[len(hist)-limit:]
	}
	return hist, nil
}

// DeleteChat removes one message from the recent chat, publishes
// ChatDeleted, and marks it deleted in the archive (where it may be even
// when Redis no longer has it).
func (e *Engine) DeleteChat(ctx context.Context, roomID, msgID string) error {
	if _, err := e.GetRoom(ctx, roomID); err != nil {
		return err
	}
	if _, err := e.Live.DeleteChat(ctx, roomID, msgID); err != nil {
		return err
	}
	ev := e.event(ctx, roomID, func(ev *pb.RoomEvent) {
		ev.Event = &pb.RoomEvent_ChatDeleted{ChatDeleted: &pb.ChatDeleted{RoomId: roomID, MessageId: msgID}}
	})
	if err := e.Live.PublishRoom(ctx, roomID, ev); err != nil {
		return err
	}
	if err := e.archive(ctx, archive.DeleteChat{RoomID: roomID, MessageID: msgID}); err != nil {
		return fmt.Errorf("queue chat delete for archive: %w", err)
	}
	return nil
}

// ClearChat empties the room's chat and publishes ChatCleared; archived
// messages are marked cleared so no recovery brings them back.
func (e *Engine) ClearChat(ctx context.Context, roomID string) error {
	if _, err := e.GetRoom(ctx, roomID); err != nil {
		return err
	}
	ev := e.event(ctx, roomID, func(ev *pb.RoomEvent) {
		ev.Event = &pb.RoomEvent_ChatCleared{ChatCleared: &pb.ChatCleared{RoomId: roomID}}
	})
	if err := e.Live.ClearChat(ctx, roomID, ev); err != nil {
		return err
	}
	if err := e.archive(ctx, archive.ClearChat{RoomID: roomID}); err != nil {
		return fmt.Errorf("queue chat clear for archive: %w", err)
	}
	return nil
}
