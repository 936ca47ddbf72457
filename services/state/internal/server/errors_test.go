package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/internal/live"
)

func TestToStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   codes.Code
		reason string
	}{
		{invalidf("x"), codes.InvalidArgument, "INVALID_ARGUMENT"},
		{fmt.Errorf("room %q: %w", "r", live.ErrRoomFull), codes.ResourceExhausted, "ROOM_FULL"},
		{fmt.Errorf("wrap: %w", live.ErrBanned), codes.PermissionDenied, "BANNED"},
		{live.ErrMaintenance, codes.FailedPrecondition, "MAINTENANCE"},
		{live.ErrNotFound, codes.NotFound, "NOT_FOUND"},
		{live.ErrAlreadyExists, codes.AlreadyExists, "ALREADY_EXISTS"},
		{archive.ErrFamilyRevoked, codes.FailedPrecondition, "REVOKED"},
		{archive.ErrTokenNotFound, codes.NotFound, "NOT_FOUND"},
		{&live.RateLimited{RetryAfter: time.Second}, codes.ResourceExhausted, "RATE_LIMITED"},
		{live.ErrNotInRoom, codes.FailedPrecondition, "NOT_IN_ROOM"},
		{context.DeadlineExceeded, codes.Unavailable, "UNAVAILABLE"},
		{actor.ErrMailboxFull, codes.Unavailable, "UNAVAILABLE"},
		{&actor.PanicError{Value: "boom"}, codes.Internal, "INTERNAL"},
		{fmt.Errorf("odd"), codes.Internal, "INTERNAL"},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			err := toStatus(tc.err)
			require.Equal(t, tc.code, status.Code(err))
			require.Equal(t, tc.reason, rpc.Reason(err))
		})
	}
	require.NoError(t, toStatus(nil))
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"id ok", checkID("id", "guest-Ab_1.x"), true},
		{"id colon", checkID("id", "a:b"), false},
		{"id space", checkID("id", "a b"), false},
		{"id 64", checkID("id", string(make([]byte, 64))), false}, // NULs
		{"chat invalid utf8", checkChatText("a\xffb"), false},
		{"chat empty", checkChatText(""), false},
		{"chat 512 runes", checkChatText(string(make([]rune, 512))), true},
		{"token base64", checkTokenID("t", "ab+/cd=="), true},
		{"hit key unicode", checkHitKey("login:user:zoë"), true},
		{"hit key newline", checkHitKey("a\nb"), false},
		{"color", checkColor("c", "#a0B1c2"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ok {
				require.NoError(t, tc.err)
			} else {
				require.Error(t, tc.err)
			}
		})
	}
	tok := encodePageToken("room-1")
	after, err := decodePageToken(tok)
	require.NoError(t, err)
	require.Equal(t, "room-1", after)
}
