package roomsvc

import (
	"context"
	"errors"
	"fmt"
	"github.com/pianorhythm/server/pkg/actor"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/internal/clock"
)

// Config configures the room service. Every zero value is usable.
type Config struct {
	// EmptyRoomGrace is how long an empty room (not a lobby) lives before it
	// is removed. Zero means 30s.
	EmptyRoomGrace time.Duration
	// OwnerSeatHold is how long the seat of an owner who left stays theirs
	// before a member may claim it. Zero means 15s.
	OwnerSeatHold time.Duration
	// LobbyCapacity is the default and largest max players of a lobby.
	// Zero means 30.
	LobbyCapacity int32
	// RoomCapacity is the default and largest max players of a room. Zero
	// means 20.
	RoomCapacity int32
	// MaxRoomCapacity is the largest max players staff may give a room
	// (pb.Action_ACTION_CREATE_LARGE_ROOM: moderators and admins), for
	// concerts and classes; everyone else is held to RoomCapacity. Zero
	// means 500; a value below RoomCapacity means RoomCapacity.
	MaxRoomCapacity int32
	// ChatLimit messages per ChatWindow per member; zero means 4.
	ChatLimit int32
	// OwnerChatLimit is ChatLimit for the room's owner; zero means 10.
	OwnerChatLimit int32
	// ChatWindow is the chat rate window; zero means 6s.
	ChatWindow time.Duration
	// Password guessing, per guesser and room: PasswordPause wrong
	// passwords per PasswordPauseWindow, then a pause until the window
	// ends (zero values mean 3 per 30s); PasswordLockout per
	// PasswordLockoutWindow, then a lockout until it ends (zero values mean
	// 10 per 15m). Per room, from everyone: PasswordRoomLimit per
	// PasswordPauseWindow (zero means 30).
	PasswordPause         int32
	PasswordPauseWindow   time.Duration
	PasswordLockout       int32
	PasswordLockoutWindow time.Duration
	PasswordRoomLimit     int32
	// MemberCacheTTL bounds how stale a room's cached member list may be
	// when a chat message is checked; zero means 1s.
	MemberCacheTTL time.Duration
	// StateTimeout bounds each call to the state service; zero means 5s.
	StateTimeout time.Duration
	// MailboxSize of each Room actor; zero means 1000.
	MailboxSize int
	// Clock tells the time and runs the seat and grace timers; nil means
	// the wall clock. Tests pass a clock.Fake (see NewFakeClock).
	Clock Clock
}

// Clock is the time source of the service (see Config.Clock).
type Clock = clock.Clock

// FakeClock is a manual clock for tests: Advance moves time and runs due
// timers.
type FakeClock = clock.Fake

// NewFakeClock returns a FakeClock reading t.
func NewFakeClock(t time.Time) *FakeClock { return clock.NewFake(t) }

func (c Config) withDefaults() Config {
	if c.EmptyRoomGrace == 0 {
		c.EmptyRoomGrace = 30 * time.Second
	}
	if c.OwnerSeatHold == 0 {
		c.OwnerSeatHold = 15 * time.Second
	}
	if c.LobbyCapacity == 0 {
		c.LobbyCapacity = 30
	}
	if c.RoomCapacity == 0 {
		c.RoomCapacity = 20
	}
	if c.MaxRoomCapacity == 0 {
		c.MaxRoomCapacity = 500
	}
	c.MaxRoomCapacity = max(c.MaxRoomCapacity, c.RoomCapacity)
	if c.ChatLimit == 0 {
		c.ChatLimit = 4
	}
	if c.OwnerChatLimit == 0 {
		c.OwnerChatLimit = 10
	}
	if c.ChatWindow == 0 {
		c.ChatWindow = 6 * time.Second
	}
	if c.PasswordPause == 0 {
		c.PasswordPause = 3
	}
	if c.PasswordPauseWindow == 0 {
		c.PasswordPauseWindow = 30 * time.Second
	}
	if c.PasswordLockout == 0 {
		c.PasswordLockout = 10
	}
	if c.PasswordLockoutWindow == 0 {
		c.PasswordLockoutWindow = 15 * time.Minute
	}
	if c.PasswordRoomLimit == 0 {
		c.PasswordRoomLimit = 30
	}
	if c.MemberCacheTTL == 0 {
		c.MemberCacheTTL = time.Second
	}
	if c.StateTimeout == 0 {
		c.StateTimeout = 5 * time.Second
	}
	if c.MailboxSize == 0 {
		c.MailboxSize = 1000
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	return c
}

// maxLimit is the largest capacity or rate limit (the state service's
// bound for Hit).
const maxLimit = 1_000_000

// maxRoomCapacity is the most seats the state service stores for a room.
const maxRoomCapacity = 10_000

// Validate reports a configuration New cannot use.
func (c Config) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{
		"empty room grace": c.EmptyRoomGrace, "owner seat hold": c.OwnerSeatHold,
		"chat window": c.ChatWindow, "member cache ttl": c.MemberCacheTTL, "state timeout": c.StateTimeout,
		"password pause window": c.PasswordPauseWindow, "password lockout window": c.PasswordLockoutWindow,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", name, d))
		}
	}
	for name, n := range map[string]int32{
		"lobby capacity": c.LobbyCapacity, "room capacity": c.RoomCapacity, "max room capacity": c.MaxRoomCapacity,
		"chat limit": c.ChatLimit, "owner chat limit": c.OwnerChatLimit,
		"password pause": c.PasswordPause, "password lockout": c.PasswordLockout, "password room limit": c.PasswordRoomLimit,
	} {
		if n < 0 || n > maxLimit {
			errs = append(errs, fmt.Errorf("%s %d is not within 0-%d", name, n, maxLimit))
		}
	}
	if c.MaxRoomCapacity > maxRoomCapacity {
		errs = append(errs, fmt.Errorf("max room capacity %d is over %d", c.MaxRoomCapacity, maxRoomCapacity))
	}
	if c.MailboxSize < 0 {
		errs = append(errs, fmt.Errorf("mailbox size %d is negative", c.MailboxSize))
	}
	return errors.Join(errs...)
}

// Events receives analytics events (ROOM_CREATED, ROOM_JOINED, ROOM_LEFT,
// CHAT), fire-and-forget; *track.Emitter is the real one. Emit must not
// block long; a lost event never fails a request.
type Events interface {
	Emit(ctx context.Context, e *pb.Event)
}

// Deps are the service's collaborators.
type Deps struct {
	// State is the state service. Required.
	State pb.StateServiceClient
	// Verifier checks bearer tokens; nil refuses them (identity metadata
	// from trusted services still works).
	Verifier auth.TokenVerifier
	// Events receives analytics events; nil drops them.
	Events Events
	// Logger; nil discards.
	Logger *slog.Logger
	// Meter records the Room actors' metrics; nil is a no-op.
	Meter metric.Meter
	// OnPanic reports panics caught in the service's actors (the monitor's
	// error tracker); nil means they are only logged.
	OnPanic func(kind string, value any, stack []byte)
	// OnGiveUp reports an actor the service's root supervisor gave up on
	// (the monitor's error tracker); nil means it is only logged. Ready
	// fails from then on.
	OnGiveUp func(actor.GaveUp)
}
