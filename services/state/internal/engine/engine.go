package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// Engine joins the live store, the archive and the archive writer actor.
type Engine struct {
	Live    *live.Store
	Archive *archive.Archive
	// Writer is the archive.Writer actor; chat and session writes go
	// through it in order.
	Writer *actor.Ref
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ChatKeep is how many messages a room keeps in Redis.
	ChatKeep int
	Logger   *slog.Logger
}

// Clock returns the engine's current time.
func (e *Engine) Clock() time.Time { return e.now() }

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// GetRoom returns a room, reloading it from the archive when Redis lost a
// persistent room.
func (e *Engine) GetRoom(ctx context.Context, id string) (*pb.Room, error) {
	r, err := e.Live.GetRoom(ctx, id)
	if !errors.Is(err, live.ErrNotFound) {
		return r, err
	}
	saved, aerr := e.Archive.Room(ctx, id)
	if aerr != nil {
		return nil, aerr
	}
	if saved == nil {
		return nil, err
	}
	if err := e.restore(ctx, saved); err != nil {
		return nil, err
	}
	return e.Live.GetRoom(ctx, id)
}

// restore puts an archived room back into Redis unless it is there.
func (e *Engine) restore(ctx context.Context, r *pb.Room) error {
	if _, err := e.Live.SaveRoom(ctx, r, true); err != nil && !errors.Is(err, live.ErrAlreadyExists) {
		return fmt.Errorf("restore room: %w", err)
	}
	return nil
}

// RecoverRooms restores the archived rooms that keep(id) selects and Redis
// lacks; it returns how many it looked at.
func (e *Engine) RecoverRooms(ctx context.Context, keep func(id string) bool) (int, error) {
	rooms, err := e.Archive.Rooms(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rooms {
		if keep != nil && !keep(r.GetId()) {
			continue
		}
		n++
		if err := e.restore(ctx, r); err != nil {
			return n, err
		}
	}
	return n, nil
}

// SaveRoom stores a room (see pb.SaveRoomRequest); persistent rooms are
// written to the archive too, and rooms that stop being persistent leave it.
func (e *Engine) SaveRoom(ctx context.Context, r *pb.Room, createOnly bool) (*pb.Room, error) {
	r = proto.Clone(r).(*pb.Room)
	if createOnly {
		// A persistent room lost by a Redis flush still exists.
		if _, err := e.GetRoom(ctx, r.GetId()); err == nil {
			return nil, fmt.Errorf("room %q: %w", r.GetId(), live.ErrAlreadyExists)
		} else if !errors.Is(err, live.ErrNotFound) {
			return nil, err
		}
	}
	if r.CreatedAt == nil {
		r.CreatedAt = timestamppb.New(e.now())
	}
	if r.Settings != nil {
		r.Settings.Password = nil // write-only: the room service stores the hash
	}
	r.HasPassword = r.HasPassword || r.GetPasswordHash() != ""
	was, err := e.Live.SaveRoom(ctx, r, createOnly)
	if err != nil {
		return nil, err
	}
	if createOnly {
		// A new room has no archived chat to load on its first read.
		if err := e.Live.MarkChatLoaded(ctx, r.GetId()); err != nil {
			return nil, err
		}
	}
	switch {
	case r.GetPersistent():
		err = e.Archive.SaveRoom(ctx, r, e.now())
	case was:
		err = e.Archive.DeleteRoom(ctx, r.GetId())
	}
	if err != nil {
		return nil, err
	}
	return e.Live.GetRoom(ctx, r.GetId())
}

// DeleteRoom removes a room from Redis and, if persistent, from the
// archive. Its archived chat stays (recovery only reloads messages sent
// after a room's creation, so a new room with the same id starts empty).
func (e *Engine) DeleteRoom(ctx context.Context, id string) error {
	was, err := e.Live.DeleteRoom(ctx, id)
	if errors.Is(err, live.ErrNotFound) {
		saved, aerr := e.Archive.Room(ctx, id)
		if aerr != nil {
			return aerr
		}
		if saved == nil {
			return err
		}
		was, err = true, nil
	}
	if err != nil {
		return err
	}
	if was {
		return e.Archive.DeleteRoom(ctx, id)
	}
	return nil
}

// ListRooms lists rooms by id; after a Redis flush it first reloads the
// persistent rooms.
func (e *Engine) ListRooms(ctx context.Context, includePrivate bool, after string, n int) ([]*pb.Room, string, error) {
	ok, err := e.Live.RoomIndexExists(ctx)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		if _, err := e.RecoverRooms(ctx, nil); err != nil {
			return nil, "", err
		}
	}
	return e.Live.ListRooms(ctx, includePrivate, after, n)
}

// Join seats a member (see live.Store.Join), restoring a persistent room
// first if Redis lost it.
func (e *Engine) Join(ctx context.Context, roomID string, m *pb.Member, staff bool) (live.JoinResult, error) {
	m = proto.Clone(m).(*pb.Member)
	if m.JoinedAt == nil {
		m.JoinedAt = timestamppb.New(e.now())
	}
	res, err := e.Live.Join(ctx, roomID, m, staff, e.now())
	if !errors.Is(err, live.ErrNotFound) {
		return res, err
	}
	if _, gerr := e.GetRoom(ctx, roomID); gerr != nil {
		return res, gerr
	}
	return e.Live.Join(ctx, roomID, m, staff, e.now())
}
