package auth_test

import (
	"fmt"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
)

func TestPermitted(t *testing.T) {
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
		reason pb.ErrorReason
	}{
		{pb.Action_ACTION_CHAT, G, false, true, 0},
		{pb.Action_ACTION_PLAY, G, false, true, 0},
		{pb.Action_ACTION_CHAT, M, true, false, pb.ErrorReason_BANNED},
		{pb.Action_ACTION_CREATE_ROOM, G, false, true, 0},
		{pb.Action_ACTION_CREATE_ROOM, A, true, false, pb.ErrorReason_BANNED},
		{pb.Action_ACTION_JOIN_PRO_ROOM, G, false, false, pb.ErrorReason_PRO_ONLY},
		{pb.Action_ACTION_JOIN_PRO_ROOM, M, false, false, pb.ErrorReason_PRO_ONLY},
		{pb.Action_ACTION_JOIN_PRO_ROOM, P, false, true, 0},
		{pb.Action_ACTION_JOIN_PRO_ROOM, O, false, true, 0},
		{pb.Action_ACTION_MODERATE, P, false, false, pb.ErrorReason_PERMISSION_DENIED},
		{pb.Action_ACTION_MODERATE, O, false, true, 0},
		{pb.Action_ACTION_BYPASS_MAINTENANCE, P, false, false, pb.ErrorReason_MAINTENANCE},
		{pb.Action_ACTION_BYPASS_MAINTENANCE, O, false, true, 0},
		{pb.Action_ACTION_ADMIN, O, false, false, pb.ErrorReason_PERMISSION_DENIED},
		{pb.Action_ACTION_ADMIN, A, false, true, 0},
		{pb.Action_ACTION_UNSPECIFIED, A, false, false, pb.ErrorReason_INVALID_ARGUMENT},
		{pb.Action(99), A, false, false, pb.ErrorReason_INVALID_ARGUMENT},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%v/banned=%v", tt.action, tt.role, tt.banned), func(t *testing.T) {
			got, reason := auth.Permitted(tt.role, tt.banned, tt.action)
			if got != tt.want || reason != tt.reason {
				t.Fatalf("Permitted = %v %v, want %v %v", got, reason, tt.want, tt.reason)
			}
		})
	}
	// Every action of the proto has a row.
	for v, name := range pb.Action_name {
		if a := pb.Action(v); a != pb.Action_ACTION_UNSPECIFIED {
			if _, reason := auth.Permitted(pb.Role_ADMIN, false, a); reason == pb.ErrorReason_INVALID_ARGUMENT {
				t.Errorf("action %s has no row in the permission table", name)
			}
		}
	}
}

func TestInternalMayDoEverything(t *testing.T) {
	sys := auth.System("ghost-tracker")
	for _, a := range auth.Actions() {
		if ok, _ := sys.May(a); !ok {
			t.Errorf("internal service may not %v", a)
		}
	}
	if ok, _ := (auth.Identity{UserID: "g-1", Guest: true}).May(pb.Action_ACTION_MODERATE); ok {
		t.Error("a guest may moderate")
	}
}
