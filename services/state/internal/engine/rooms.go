package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/roomview"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// GetRoom returns a room, restoring it from the archive when Redis lost
// it.
func (e *Engine) GetRoom(ctx context.Context, id string) (*pb.Room, error) {
	r, err := e.Live.GetRoom(ctx, id)
	if !errors.Is(err, live.ErrNotFound) {
		return r, err
	}
	if _, err := e.restoreRoom(ctx, id); err != nil {
		return nil, err
	}
	return e.Live.GetRoom(ctx, id)
}

// restoreRoom puts the archived room id back into Redis with its bans;
// ErrNotFound when the archive has no such room either.
func (e *Engine) restoreRoom(ctx context.Context, id string) (*pb.Room, error) {
	if err := e.flushed(ctx); err != nil {
		return nil, fmt.Errorf("flush archive before restoring room %q: %w", id, err)
	}
	r, err := e.Archive.Room(ctx, id)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("room %q: %w", id, live.ErrNotFound)
	}
	return r, e.putBack(ctx, r)
}

// putBack writes an archived room and its bans into Redis unless the room
// is there.
func (e *Engine) putBack(ctx context.Context, r *pb.Room) error {
	restored, err := e.Live.RestoreRoom(ctx, r)
	if err != nil || !restored {
		return err
	}
	bans, err := e.Archive.Bans(ctx, r.GetId(), e.now())
	if err != nil {
		return err
	}
	for id, until := range bans {
		if until.IsZero() {
			bans[id] = live.Forever
		}
	}
	return e.Live.RestoreBans(ctx, r.GetId(), bans)
}

// CreateRoom stores a new room; ErrAlreadyExists when it exists (also
// when only the archive still has it).
func (e *Engine) CreateRoom(ctx context.Context, r *pb.Room) (*pb.Room, error) {
	r = proto.CloneOf(r)
	if r.CreatedAt == nil {
		r.CreatedAt = timestamppb.New(e.now())
	}
	clean(r)
	if _, err := e.GetRoom(ctx, r.GetId()); err == nil {
		return nil, fmt.Errorf("room %q: %w", r.GetId(), live.ErrAlreadyExists)
	} else if !errors.Is(err, live.ErrNotFound) {
		return nil, err
	}
	saved, err := e.Live.SaveRoom(ctx, r, true, true, 0)
	if err != nil {
		return nil, err
	}
	return saved, e.archive(ctx, archive.SaveRoom{Room: saved, At: e.now()})
}

// clean drops what a stored room never holds: the write-only password
// (the room service stores its hash) and the member count.
func clean(r *pb.Room) {
	if r.Settings != nil {
		r.Settings.Password = nil
	}
	r.HasPassword = r.GetPasswordHash() != ""
	r.MemberCount = 0
}

// UpdateRoom writes a changed room decided on version (0: unconditional)
// and publishes what the change means to members: OwnerChanged when the
// owner changed, RoomUpdated when the settings or the password did.
func (e *Engine) UpdateRoom(ctx context.Context, r *pb.Room, version int64) (*pb.Room, error) {
	r = proto.CloneOf(r)
	clean(r)
	old, err := e.GetRoom(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	if version != 0 && old.GetVersion() != version {
		return nil, &live.Stale{Room: old}
	}
	var events [][]byte
	if old.GetOwnerId() != r.GetOwnerId() {
		events = append(events, e.event(ctx, r.GetId(), func(ev *pb.RoomEvent) {
			ev.Event = &pb.RoomEvent_OwnerChanged{OwnerChanged: &pb.OwnerChanged{
				RoomId: r.GetId(), OwnerId: r.GetOwnerId(), PreviousOwnerId: old.GetOwnerId()}}
		}))
	}
	if !proto.Equal(old.GetSettings(), r.GetSettings()) || old.GetPasswordHash() != r.GetPasswordHash() {
		pub := roomview.Public(r)
		events = append(events, e.event(ctx, r.GetId(), func(ev *pb.RoomEvent) {
			ev.Event = &pb.RoomEvent_RoomUpdated{RoomUpdated: &pb.RoomUpdated{Room: pub}}
		}))
	}
	saved, err := e.Live.SaveRoom(ctx, r, false, false, version, events...)
	if err != nil {
		return nil, err
	}
	saved.MemberCount = old.GetMemberCount()
	return saved, e.archive(ctx, archive.SaveRoom{Room: saved, At: e.now()})
}

// DeleteRoom removes a room from Redis and the archive and publishes
// RoomDeleted. Its archived chat stays (recovery only reloads messages sent
// after a room's creation, so a new room with the same id starts empty).
func (e *Engine) DeleteRoom(ctx context.Context, id string) error {
	ev := e.event(ctx, id, func(ev *pb.RoomEvent) {
		ev.Event = &pb.RoomEvent_RoomDeleted{RoomDeleted: &pb.RoomDeleted{RoomId: id}}
	})
	err := e.Live.DeleteRoom(ctx, id, ev)
	if errors.Is(err, live.ErrNotFound) {
		// Redis may have lost a room the archive still has.
		if _, rerr := e.restoreRoom(ctx, id); rerr != nil {
			return rerr
		}
		err = e.Live.DeleteRoom(ctx, id, ev)
	}
	if err != nil {
		return err
	}
	return e.archive(ctx, archive.DeleteRoom{ID: id})
}

// ListRooms lists rooms by id, restoring the archived rooms first when
// Redis lost them.
func (e *Engine) ListRooms(ctx context.Context, includePrivate bool, after string, n int) ([]*pb.Room, string, error) {
	if err := e.EnsureRestored(ctx); err != nil {
		return nil, "", err
	}
	return e.Live.ListRooms(ctx, includePrivate, after, n)
}

// JoinArgs is one AddUserToRoom.
type JoinArgs struct {
	RoomID  string
	Member  *pb.Member
	Staff   bool
	Version int64
	Update  *pb.Room
	Chat    int
}

// Join seats a member (see live.Store.Join), restoring the room from the
// archive first if Redis lost it, and loading a cold chat history.
func (e *Engine) Join(ctx context.Context, j JoinArgs) (live.JoinResult, error) {
	m := proto.CloneOf(j.Member)
	if m.JoinedAt == nil {
		m.JoinedAt = timestamppb.New(e.now())
	}
	if j.Update != nil {
		j.Update = proto.CloneOf(j.Update)
		clean(j.Update)
	}
	req := live.JoinRequest{
		RoomID: j.RoomID, Member: m, Staff: j.Staff, Version: j.Version, Update: j.Update, Chat: j.Chat, Now: e.now(),
		Event: e.event(ctx, j.RoomID, func(ev *pb.RoomEvent) {
			ev.Event = &pb.RoomEvent_UserJoined{UserJoined: &pb.UserJoined{RoomId: j.RoomID, Member: m}}
		}),
	}
	res, err := e.Live.Join(ctx, req)
	if errors.Is(err, live.ErrNotFound) {
		if _, rerr := e.restoreRoom(ctx, j.RoomID); rerr != nil {
			return res, rerr
		}
		res, err = e.Live.Join(ctx, req)
	}
	if err != nil {
		return res, err
	}
	if j.Update != nil {
		if err := e.archive(ctx, archive.SaveRoom{Room: res.Room, At: e.now()}); err != nil {
			return res, err
		}
	}
	if !res.ChatLoaded {
		hist, err := e.loadChat(ctx, res.Room)
		if err != nil {
			return res, err
		}
		if len(hist) > j.Chat {
			hist = hist[len(hist)-j.Chat:]
		}
		res.Chat = hist
	}
	return res, nil
}

// LeaveArgs is one RemoveUserFromRoom.
type LeaveArgs struct {
	RoomID, UserID, ConnID, Reason string
	Version                        int64
	Update                         *pb.Room
}

// Leave frees a seat and publishes UserLeft (see live.Store.Leave).
func (e *Engine) Leave(ctx context.Context, l LeaveArgs) (live.LeaveResult, error) {
	reason := l.Reason
	if reason == "" {
		reason = "left"
	}
	if l.Update != nil {
		l.Update = proto.CloneOf(l.Update)
		clean(l.Update)
	}
	res, err := e.Live.Leave(ctx, live.LeaveRequest{
		RoomID: l.RoomID, UserID: l.UserID, ConnID: l.ConnID, Version: l.Version, Update: l.Update,
		Event: e.event(ctx, l.RoomID, func(ev *pb.RoomEvent) {
			ev.Event = &pb.RoomEvent_UserLeft{UserLeft: &pb.UserLeft{RoomId: l.RoomID, UserId: l.UserID, Reason: reason}}
		}),
	})
	if err != nil {
		return res, err
	}
	if res.Removed && l.Update != nil && !res.Stale && res.Room != nil {
		err = e.archive(ctx, archive.SaveRoom{Room: res.Room, At: e.now()})
	}
	return res, err
}

// Kick bans (ban > 0; ban < 0 for ever) and removes a member, publishing
// Kicked and then UserLeft.
func (e *Engine) Kick(ctx context.Context, roomID, userID, byUserID, reason string, ban time.Duration) (removed bool, count int, err error) {
	var until time.Time
	switch {
	case ban > 0:
		until = e.now().Add(ban)
	case ban < 0:
		until = live.Forever
	}
	kicked := e.event(ctx, roomID, func(ev *pb.RoomEvent) {
		ev.Event = &pb.RoomEvent_Kicked{Kicked: &pb.Kicked{
			RoomId: roomID, UserId: userID, ByUserId: byUserID, BanSeconds: int64(ban / time.Second), Reason: reason}}
	})
	left := e.event(ctx, roomID, func(ev *pb.RoomEvent) {
		ev.Event = &pb.RoomEvent_UserLeft{UserLeft: &pb.UserLeft{RoomId: roomID, UserId: userID, Reason: "kicked"}}
	})
	removed, count, err = e.Live.Kick(ctx, roomID, userID, until, kicked, left)
	if errors.Is(err, live.ErrNotFound) {
		if _, rerr := e.restoreRoom(ctx, roomID); rerr != nil {
			return false, 0, rerr
		}
		removed, count, err = e.Live.Kick(ctx, roomID, userID, until, kicked, left)
	}
	if err != nil || until.IsZero() {
		return removed, count, err
	}
	if until.Equal(live.Forever) {
		until = time.Time{}
	}
	return removed, count, e.archive(ctx, archive.Ban{RoomID: roomID, UserID: userID, Until: until})
}

// Unban lifts a room ban, in Redis and the archive.
func (e *Engine) Unban(ctx context.Context, roomID, userID string) error {
	if err := e.Live.Unban(ctx, roomID, userID); err != nil {
		return err
	}
	return e.archive(ctx, archive.Unban{RoomID: roomID, UserID: userID})
}

// Members returns a room's members; ErrNotFound when the room does not
// exist.
func (e *Engine) Members(ctx context.Context, roomID string) ([]*pb.Member, error) {
	if _, err := e.GetRoom(ctx, roomID); err != nil {
		return nil, err
	}
	return e.Live.Members(ctx, roomID)
}
