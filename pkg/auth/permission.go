package auth

import (
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// permission is the least role an action needs and the reason given to a
// user who lacks it.
type permission struct {
	least  pb.Role
	reason pb.ErrorReason
}

// permissions is the one permission table, asked by every service that
// decides (the user service's ValidatePermission, the room service's
// create, join, moderation and maintenance decisions, in-process). Roles
// are ordered (guest < member < pro < moderator < admin), so a higher role
// may do what a lower one may: a moderator may join pro rooms. Guests may
// create rooms, as everyone may on Multiplayer Piano: a guest's room is
// removed like any other when it empties.
var permissions = map[pb.Action]permission{
	pb.Action_ACTION_CHAT:               {pb.Role_GUEST, pb.ErrorReason_PERMISSION_DENIED},
	pb.Action_ACTION_PLAY:               {pb.Role_GUEST, pb.ErrorReason_PERMISSION_DENIED},
	pb.Action_ACTION_CREATE_ROOM:        {pb.Role_GUEST, pb.ErrorReason_GUESTS_NOT_ALLOWED},
	pb.Action_ACTION_JOIN_PRO_ROOM:      {pb.Role_PRO, pb.ErrorReason_PRO_ONLY},
	pb.Action_ACTION_MODERATE:           {pb.Role_MODERATOR, pb.ErrorReason_PERMISSION_DENIED},
	pb.Action_ACTION_BYPASS_MAINTENANCE: {pb.Role_MODERATOR, pb.ErrorReason_MAINTENANCE},
	pb.Action_ACTION_CREATE_LARGE_ROOM:  {pb.Role_MODERATOR, pb.ErrorReason_PERMISSION_DENIED},
	pb.Action_ACTION_ADMIN:              {pb.Role_ADMIN, pb.ErrorReason_PERMISSION_DENIED},
}

// Permitted reports whether a holder of highest (GUEST for guests) may do
// a, and when not, why. An unknown action is never permitted
// (INVALID_ARGUMENT); a banned account may do nothing (BANNED).
func Permitted(highest pb.Role, banned bool, a pb.Action) (bool, pb.ErrorReason) {
	p, ok := permissions[a]
	if !ok {
		return false, pb.ErrorReason_INVALID_ARGUMENT
	}
	if banned {
		return false, pb.ErrorReason_BANNED
	}
	if highest < p.least {
		return false, p.reason
	}
	return true, pb.ErrorReason_ERROR_REASON_UNSPECIFIED
}

// May reports whether the identity may do a (internal services may do
// everything) and why not.
func (i Identity) May(a pb.Action) (bool, pb.ErrorReason) {
	if i.Internal() {
		if _, ok := permissions[a]; ok {
			return true, pb.ErrorReason_ERROR_REASON_UNSPECIFIED
		}
	}
	return Permitted(i.Highest(), false, a)
}

// Actions lists the actions of the table (for tests that walk it).
func Actions() []pb.Action {
	out := make([]pb.Action, 0, len(permissions))
	for a := range permissions {
		out = append(out, a)
	}
	return out
}
