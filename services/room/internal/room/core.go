package room

import (
	"context"
	"log/slog"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/room/internal/clock"
)

// Events receives analytics events, fire-and-forget: Emit must not block
// long and its failures are the implementation's business.
type Events interface {
	Emit(ctx context.Context, e *pb.Event)
}

// Options are the resolved settings of the room core (roomsvc.Config after
// its defaults).
type Options struct {
	EmptyRoomGrace time.Duration
	OwnerSeatHold  time.Duration
	LobbyCapacity  int32
	RoomCapacity   int32
	// LargeCapacity is the ceiling of max players for callers allowed
	// ACTION_CREATE_LARGE_ROOM (at least RoomCapacity).
	LargeCapacity  int32
	ChatLimit      int32
	OwnerChatLimit int32
	ChatWindow     time.Duration
	// Password guessing limits (see Manager.precheckPassword).
	PasswordPause, PasswordLockout, PasswordRoomLimit int32
	PasswordPauseWindow, PasswordLockoutWindow        time.Duration
	// CacheTTL bounds how stale a Room actor's member cache may be when it
	// checks that a chat sender is in the room.
	CacheTTL time.Duration
	// StateTimeout bounds each call to the state service.
	StateTimeout time.Duration
	// MailboxSize of each Room actor.
	MailboxSize int
	Clock       clock.Clock
}

// core is what every Room actor and handler shares.
type core struct {
	opt    Options
	state  pb.StateServiceClient
	events Events
	log    *slog.Logger
}

func (c *core) now() time.Time { return c.opt.Clock.Now() }

// call returns a context for one state call, bounded by StateTimeout.
func (c *core) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opt.StateTimeout)
}

func (c *core) limits() limits {
	return limits{room: c.opt.RoomCapacity, lobby: c.opt.LobbyCapacity, large: max(c.opt.LargeCapacity, c.opt.RoomCapacity)}
}
