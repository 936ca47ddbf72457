package account

import (
	"slices"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Account is one registered user as stored in MongoDB.
type Account struct {
	ID       string `bson:"_id"`
	Username string `bson:"username,omitempty"`
	// UsernameKey is the lowercased username, or "#"+ID for accounts
	// without one; unique. Every account has a value because FerretDB does
	// not support sparse unique indexes, and '#' is not allowed in
	// usernames, so placeholders never collide with real names.
	UsernameKey  string `bson:"username_key"`
	PasswordHash string `bson:"password_hash,omitempty"`
	DisplayName  string `bson:"display_name"`
	// NameLower is the lowercased display name, indexed for prefix search.
	NameLower   string    `bson:"name_lower"`
	Color       string    `bson:"color"`
	StatusText  string    `bson:"status_text,omitempty"`
	Description string    `bson:"description,omitempty"`
	Roles       []int32   `bson:"roles"`
	Badges      []string  `bson:"badges,omitempty"`
	CreatedAt   time.Time `bson:"created_at"`
	// BannedUntil is zero when not banned; Forever for a permanent ban.
	BannedUntil time.Time `bson:"banned_until,omitempty"`
	BanReason   string    `bson:"ban_reason,omitempty"`
	DiscordID   string    `bson:"discord_id,omitempty"`
	// DiscordKey is DiscordID or "#"+ID; unique (see UsernameKey).
	DiscordKey string `bson:"discord_key"`
}

// Forever is the BannedUntil of a permanent ban (the largest time a
// protobuf Timestamp can carry, to the day).
var Forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// UsernameKey returns the unique key for username.
func UsernameKey(username string) string { return strings.ToLower(username) }

// Fill sets the derived keys of a.
func (a *Account) Fill() {
	a.NameLower = strings.ToLower(a.DisplayName)
	a.UsernameKey = "#" + a.ID
	if a.Username != "" {
		a.UsernameKey = UsernameKey(a.Username)
	}
	a.DiscordKey = "#" + a.ID
	if a.DiscordID != "" {
		a.DiscordKey = a.DiscordID
	}
}

// Banned reports whether the account is banned at now.
func (a *Account) Banned(now time.Time) bool {
	return !a.BannedUntil.IsZero() && now.Before(a.BannedUntil)
}

// RoleList returns the roles as enum values, in order.
func (a *Account) RoleList() []pb.Role {
	out := make([]pb.Role, 0, len(a.Roles))
	for _, r := range a.Roles {
		out = append(out, pb.Role(r))
	}
	slices.Sort(out)
	return out
}

// Proto returns the public view of a (no password hash, no ban reason).
func (a *Account) Proto() *pb.User {
	u := &pb.User{
		Id: a.ID, Username: a.Username, DisplayName: a.DisplayName, Color: a.Color,
		StatusText: a.StatusText, Description: a.Description, Roles: a.RoleList(),
		Badges: slices.Clone(a.Badges), CreatedAt: timestamppb.New(a.CreatedAt), DiscordId: a.DiscordID,
	}
	if !a.BannedUntil.IsZero() {
		u.BannedUntil = timestamppb.New(a.BannedUntil)
	}
	return u
}

// Identity returns who a user is for access tokens: the roles with MEMBER
// always present for accounts, GUEST for guests.
func Identity(u *pb.User) auth.Identity {
	roles := slices.Clone(u.GetRoles())
	if len(roles) == 0 {
		roles = []pb.Role{pb.Role_GUEST}
		if !u.GetGuest() {
			roles = []pb.Role{pb.Role_MEMBER}
		}
	}
	return auth.Identity{UserID: u.GetId(), DisplayName: u.GetDisplayName(), Roles: roles, Guest: u.GetGuest()}
}

// Highest is the highest role of u (GUEST when none).
func Highest(u *pb.User) pb.Role { return Identity(u).Highest() }

// BannedAt reports whether u is banned at now.
func BannedAt(u *pb.User, now time.Time) bool {
	return u.GetBannedUntil() != nil && now.Before(u.GetBannedUntil().AsTime())
}
