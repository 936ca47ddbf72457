package actors

import "errors"

// Domain errors; usersvc maps them to gRPC codes.
var (
	// ErrBadCredentials: unknown user or wrong password (deliberately one
	// error for both).
	ErrBadCredentials = errors.New("invalid username or password")
	// ErrRateLimited: too many attempts.
	ErrRateLimited = errors.New("too many attempts, try again later")
	// ErrBanned: the account is banned.
	ErrBanned = errors.New("account is banned")
	// ErrInvalidToken: a refresh token that is unknown, expired, revoked or
	// reused.
	ErrInvalidToken = errors.New("invalid or expired refresh token")
	// ErrFriendship: the friend action does not fit the current relation
	// (accepting a request that does not exist, befriending oneself or a
	// guest).
	ErrFriendship = errors.New("friend action not possible")
)
