package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/user/internal/account"
	"github.com/pianorhythm/server/services/user/internal/token"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Env is what every actor of the service shares; all of it is safe for
// concurrent use.
type Env struct {
	Store      *account.Store
	State      pb.StateServiceClient
	Signer     *token.Signer
	Now        func() time.Time
	Logger     *slog.Logger
	OpTimeout  time.Duration
	RefreshTTL time.Duration
	// Admins are lowercased usernames that get ADMIN when they register or
	// log in.
	Admins map[string]bool
}

// GuestPrefix starts every guest id; account ids are UUIDs and never do.
const GuestPrefix = "g-"

// IsGuestID reports whether id names a guest.
func IsGuestID(id string) bool { return strings.HasPrefix(id, GuestPrefix) }

// op returns the context for one storage call made while handling a
// message.
func (e *Env) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.OpTimeout)
}

// LoadUser returns the current record of user id: accounts from MongoDB
// (the source of truth for roles and bans), guests from the state service.
func (e *Env) LoadUser(ctx context.Context, id string) (*pb.User, error) {
	ctx, cancel := e.op(ctx)
	defer cancel()
	if IsGuestID(id) {
		u, err := e.State.GetUser(ctx, &pb.GetUserRequest{UserId: id})
		if status.Code(err) == codes.NotFound {
			return nil, account.ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("state get user: %w", err)
		}
		return u, nil
	}
	a, err := e.Store.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.Proto(), nil
}

// cache writes u to the state service so other services read it quickly.
// MongoDB stays the truth for accounts, so a failure is logged, not
// returned: the next write refreshes the copy.
func (e *Env) cache(ctx context.Context, u *pb.User) {
	ctx, cancel := e.op(ctx)
	defer cancel()
	if _, err := e.State.SaveUser(ctx, &pb.SaveUserRequest{User: u}); err != nil {
		e.Logger.WarnContext(ctx, "cache user in state", "user", u.GetId(), "err", err)
	}
}

// publish sends ev on user:{ev.UserId} through the state service; a lost
// notification is logged, not returned, since the change itself happened.
func (e *Env) publish(ctx context.Context, ev *pb.UserEvent) {
	ctx, cancel := e.op(ctx)
	defer cancel()
	if _, err := e.State.PublishUserEvent(ctx, ev); err != nil {
		e.Logger.WarnContext(ctx, "publish user event", "user", ev.GetUserId(), "err", err)
	}
}

// stateErr wraps an error of the state service for the caller; NotFound
// becomes err404 when given.
func stateErr(what string, err error, err404 error) error {
	if err404 != nil && status.Code(err) == codes.NotFound {
		return err404
	}
	return fmt.Errorf("state %s: %w", what, err)
}

var errUnknownMessage = errors.New("unknown message")
