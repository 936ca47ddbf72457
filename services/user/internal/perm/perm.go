// Package perm decides what a user may do: one table of actions and the
// least role each needs.
package perm

import (
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// rule is the least role an action needs and the reason given when the user
// lacks it (a client protocol error code).
type rule struct {
	least  pb.Role
	reason string
}

// rules is the permission table. Roles are ordered (guest < member < pro <
// moderator < admin), so holding a higher role grants what a lower one may
// do: a moderator may join pro rooms.
var rules = map[pb.Action]rule{
	pb.Action_ACTION_CHAT:               {pb.Role_GUEST, ""},
	pb.Action_ACTION_PLAY:               {pb.Role_GUEST, ""},
	pb.Action_ACTION_CREATE_ROOM:        {pb.Role_MEMBER, "GUESTS_NOT_ALLOWED"},
	pb.Action_ACTION_JOIN_PRO_ROOM:      {pb.Role_PRO, "PRO_ONLY"},
	pb.Action_ACTION_MODERATE:           {pb.Role_MODERATOR, "PERMISSION_DENIED"},
	pb.Action_ACTION_BYPASS_MAINTENANCE: {pb.Role_MODERATOR, "MAINTENANCE"},
	pb.Action_ACTION_ADMIN:              {pb.Role_ADMIN, "PERMISSION_DENIED"},
}

// Subject is what a decision looks at.
type Subject struct {
	// Highest is the user's highest role (GUEST for guests).
	Highest pb.Role
	// Banned: the account is banned right now.
	Banned bool
}

// Check reports whether s may do a, and when not, the reason code. An
// unknown action is never allowed (reason INVALID_ARGUMENT). A banned
// account may do nothing (reason BANNED).
func Check(s Subject, a pb.Action) (allowed bool, reason string) {
	r, ok := rules[a]
	if !ok {
		return false, "INVALID_ARGUMENT"
	}
	if s.Banned {
		return false, "BANNED"
	}
	if s.Highest < r.least {
		return false, r.reason
	}
	return true, ""
}
