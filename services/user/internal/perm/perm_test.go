package perm

import (
	"fmt"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

func TestCheck(t *testing.T) {
	const (
		G = pb.Role_GUEST
		M = pb.Role_MEMBER
		P = pb.Role_PRO
		O = pb.Role_MODERATOR
		A = pb.Role_ADMIN
	)
	tests := []struct {
		action pb.Action
		role   pb.Role
		banned bool
		want   bool
		reason string
	}{
		{pb.Action_ACTION_CHAT, G, false, true, ""},
		{pb.Action_ACTION_PLAY, G, false, true, ""},
		{pb.Action_ACTION_CHAT, M, true, false, "BANNED"},
		{pb.Action_ACTION_CREATE_ROOM, G, false, false, "GUESTS_NOT_ALLOWED"},
		{pb.Action_ACTION_CREATE_ROOM, M, false, true, ""},
		{pb.Action_ACTION_CREATE_ROOM, A, true, false, "BANNED"},
		{pb.Action_ACTION_JOIN_PRO_ROOM, G, false, false, "PRO_ONLY"},
		{pb.Action_ACTION_JOIN_PRO_ROOM, M, false, false, "PRO_ONLY"},
		{pb.Action_ACTION_JOIN_PRO_ROOM, P, false, true, ""},
		{pb.Action_ACTION_JOIN_PRO_ROOM, O, false, true, ""},
		{pb.Action_ACTION_JOIN_PRO_ROOM, A, false, true, ""},
		{pb.Action_ACTION_MODERATE, P, false, false, "PERMISSION_DENIED"},
		{pb.Action_ACTION_MODERATE, O, false, true, ""},
		{pb.Action_ACTION_MODERATE, A, false, true, ""},
		{pb.Action_ACTION_BYPASS_MAINTENANCE, P, false, false, "MAINTENANCE"},
		{pb.Action_ACTION_BYPASS_MAINTENANCE, O, false, true, ""},
		{pb.Action_ACTION_ADMIN, O, false, false, "PERMISSION_DENIED"},
		{pb.Action_ACTION_ADMIN, A, false, true, ""},
		{pb.Action_ACTION_UNSPECIFIED, A, false, false, "INVALID_ARGUMENT"},
		{pb.Action(99), A, false, false, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%v/banned=%v", tt.action, tt.role, tt.banned), func(t *testing.T) {
			got, reason := Check(Subject{Highest: tt.role, Banned: tt.banned}, tt.action)
			if got != tt.want || reason != tt.reason {
				t.Fatalf("Check = %v %q, want %v %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}
