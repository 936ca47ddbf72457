package engine

import (
	"context"
	"errors"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// GetUser returns the user record Redis keeps; a guest that Redis lost is
// read back from the archive (guests exist nowhere else).
func (e *Engine) GetUser(ctx context.Context, id string) (*pb.User, error) {
	u, err := e.Live.GetUser(ctx, id)
	if !errors.Is(err, live.ErrNotFound) {
		return u, err
	}
	if err := e.flushed(ctx); err != nil {
		return nil, err
	}
	g, aerr := e.Archive.Guest(ctx, id)
	if aerr != nil {
		return nil, aerr
	}
	if g == nil {
		return nil, err
	}
	return g, e.Live.SaveUser(ctx, g)
}

// SaveUser replaces the user record (a guest's is archived too). When the
// user holds a seat and the profile members see changed (name, color,
// badges, status), the seat takes it and the room is told (MemberUpdated):
// whichever way the profile changed (WebSocket, REST, admin), the state
// service is the one publisher of the room's event.
func (e *Engine) SaveUser(ctx context.Context, u *pb.User) error {
	if err := e.Live.SaveUser(ctx, u); err != nil {
		return err
	}
	if u.GetGuest() {
		if err := e.archive(ctx, archive.SaveGuest{User: proto.CloneOf(u)}); err != nil {
			return err
		}
	}
	roomID, err := e.Live.UpdateSeatProfile(ctx, u)
	if err != nil || roomID == "" {
		return err
	}
	pub := proto.CloneOf(u)
	pub.BannedUntil = nil
	return e.Live.PublishRoom(ctx, roomID, e.event(ctx, roomID, func(ev *pb.RoomEvent) {
		ev.Event = &pb.RoomEvent_MemberUpdated{MemberUpdated: &pb.MemberUpdated{RoomId: roomID, User: pub}}
	}))
}

// Friends lists a user's relations, loading them from the archive when
// Redis lost them.
func (e *Engine) Friends(ctx context.Context, userID string) ([]*pb.FriendEntry, error) {
	fs, loaded, err := e.Live.Friends(ctx, userID)
	if err != nil || loaded {
		return fs, err
	}
	if err := e.loadFriends(ctx, userID); err != nil {
		return nil, err
	}
	fs, _, err = e.Live.Friends(ctx, userID)
	return fs, err
}

func (e *Engine) loadFriends(ctx context.Context, userID string) error {
	if err := e.flushed(ctx); err != nil {
		return err
	}
	fs, err := e.Archive.Friends(ctx, userID)
	if err != nil {
		return err
	}
	return e.Live.LoadFriends(ctx, userID, fs)
}

// SetFriendStatus sets both sides of a friendship, in Redis and the
// archive; both sides are loaded first, so a side Redis lost is not
// replaced by this one change.
func (e *Engine) SetFriendStatus(ctx context.Context, userID, otherID string, st pb.FriendStatus) error {
	for _, id := range []string{userID, otherID} {
		if _, err := e.Friends(ctx, id); err != nil {
			return err
		}
	}
	if err := e.Live.SetFriendStatus(ctx, userID, otherID, st); err != nil {
		return err
	}
	return e.archive(ctx, archive.SetFriend{UserID: userID, OtherID: otherID, Status: st, Mirror: live.Mirror(st)})
}

// Config returns the server-wide settings, restoring them from the archive
// when Redis lost them.
func (e *Engine) Config(ctx context.Context) (*pb.ServerConfig, error) {
	c, loaded, err := e.Live.Config(ctx)
	if err != nil || loaded {
		return c, err
	}
	if err := e.flushed(ctx); err != nil {
		return nil, err
	}
	if c, err = e.Archive.Config(ctx); err != nil {
		return nil, err
	}
	return c, e.Live.RestoreConfig(ctx, c)
}

// SetConfig replaces the server-wide settings, in Redis and the archive.
func (e *Engine) SetConfig(ctx context.Context, c *pb.ServerConfig) error {
	if err := e.Live.SetConfig(ctx, c); err != nil {
		return err
	}
	return e.archive(ctx, archive.SaveConfig{Config: proto.CloneOf(c)})
}
