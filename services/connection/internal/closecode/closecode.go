package closecode

import (
	"errors"
	"fmt"

	"github.com/coder/websocket"
)

// Error is a reason to close a connection: the close code sent to the client
// and a short human-readable reason (at most 123 bytes, the protocol limit).
type Error struct {
	Code   websocket.StatusCode
	Reason string
}

// Error implements error.
func (e Error) Error() string { return fmt.Sprintf("close %d: %s", int(e.Code), e.Reason) }

// WithReason returns e with another reason text, same code.
func (e Error) WithReason(reason string) Error {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return Error{Code: e.Code, Reason: reason}
}

// Is matches any Error of the same code, so errors.Is(err, closecode.Slow)
// holds whatever the reason text says.
func (e Error) Is(target error) bool {
	var t Error
	return errors.As(target, &t) && t.Code == e.Code
}

// The catalogue.
var (
	// Normal: the client or server is done (1000).
	Normal = Error{websocket.StatusNormalClosure, "bye"}
	// TooBig: a frame over the size limit (1009); the websocket library
	// sends it itself when the read limit is hit.
	TooBig = Error{websocket.StatusMessageTooBig, "frame too big"}
	// ServerClosing: the instance is shutting down or an admin closed the
	// connection; reconnect elsewhere (4000).
	ServerClosing = Error{4000, "server closing"}
	// Protocol: the client broke the protocol, e.g. a binary frame on the
	// JSON subprotocol (4001).
	Protocol = Error{4001, "protocol violation"}
	// Quota: the client kept sending notes over its quota (4002).
	Quota = Error{4002, "note quota exceeded"}
	// Slow: the client did not read fast enough and its send queue stayed
	// full (4003).
	Slow = Error{4003, "slow client"}
	// Timeout: nothing heard from the client for too long (4004).
	Timeout = Error{4004, "timeout"}
	// Replaced: an admin or the server replaced this session (4005).
	Replaced = Error{4005, "replaced"}
	// Banned: the account is banned (4008).
	Banned = Error{4008, "banned"}
	// Internal: the connection's actor failed (a bug); its state cannot be
	// trusted, so the client reconnects (1011).
	Internal = Error{websocket.StatusInternalError, "internal error"}
	// Unavailable: a service the connection needs to start (signing in)
	// does not answer; try again later (1013).
	Unavailable = Error{websocket.StatusTryAgainLater, "try again later"}
)

// From returns the close code carried by err: the Error in its chain, else
// ServerClosing for a nil error (the server chose to close) and Normal
// otherwise.
func From(err error) Error {
	var e Error
	if errors.As(err, &e) {
		return e
	}
	if err == nil {
		return ServerClosing
	}
	return Normal
}

// Of returns the catalogue entry for code, or an Error with a generic reason
// for codes outside it (an admin may close with any 4xxx code).
func Of(code int) Error {
	for _, e := range []Error{Normal, TooBig, ServerClosing, Protocol, Quota, Slow, Timeout, Replaced, Banned, Internal, Unavailable} {
		if int(e.Code) == code {
			return e
		}
	}
	return Error{websocket.StatusCode(code), "closed"}
}
