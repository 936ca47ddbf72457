package auth

import (
	"context"
	"slices"
	"strings"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/grpc/metadata"
)

// Identity is who a request acts for.
type Identity struct {
	UserID      string
	DisplayName string
	Roles       []pb.Role
	Guest       bool
}

// Has reports whether the identity holds role or a higher one.
func (i Identity) Has(role pb.Role) bool {
	return i.Highest() >= role
}

// Highest is the identity's highest role; GUEST when it holds none.
func (i Identity) Highest() pb.Role {
	h := pb.Role_GUEST
	for _, r := range i.Roles {
		h = max(h, r)
	}
	return h
}

// Staff reports whether the identity is a moderator or an admin.
func (i Identity) Staff() bool { return i.Has(pb.Role_MODERATOR) }

// InternalPrefix starts the user id of an internal service acting for
// itself ("system:ghost-tracker"); such identities exist only in metadata
// set by trusted services, never in tokens.
const InternalPrefix = "system:"

// Internal reports whether the identity is an internal service.
func (i Identity) Internal() bool { return strings.HasPrefix(i.UserID, InternalPrefix) }

// System returns the identity of an internal service.
func System(service string) Identity {
	return Identity{UserID: InternalPrefix + service, DisplayName: service}
}

type identityKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity of the request, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok && id.UserID != ""
}

// Metadata keys that carry an identity between services. Only services set
// them (the edge after verifying the user's token), and a server believes
// them only from a caller whose service credential checked out (see
// service.go); the REST gateway never forwards client headers under these
// names (see the edge's header matcher).
//
// The display name travels as binary metadata (a "-bin" key, base64 on the
// wire): gRPC refuses other header values that are not printable ASCII,
// and names are any printable Unicode ("Zoë", "ピアノ").
const (
	MDUserID      = "x-pr-user-id"
	MDDisplayName = "x-pr-display-name-bin"
	MDRoles       = "x-pr-roles"
	MDGuest       = "x-pr-guest"
)

// OutgoingContext returns ctx whose outgoing gRPC metadata carries id, for a
// trusted service calling another on a user's behalf.
func OutgoingContext(ctx context.Context, id Identity) context.Context {
	roles := make([]string, len(id.Roles))
	for i, r := range id.Roles {
		roles[i] = r.String()
	}
	guest := "false"
	if id.Guest {
		guest = "true"
	}
	return metadata.AppendToOutgoingContext(ctx,
		MDUserID, id.UserID,
		MDDisplayName, id.DisplayName,
		MDRoles, strings.Join(roles, ","),
		MDGuest, guest,
	)
}

// identityFromMetadata reads the identity set by OutgoingContext.
func identityFromMetadata(md metadata.MD) (Identity, bool) {
	uid := first(md, MDUserID)
	if uid == "" {
		return Identity{}, false
	}
	id := Identity{UserID: uid, DisplayName: first(md, MDDisplayName), Guest: first(md, MDGuest) == "true"}
	for _, name := range strings.Split(first(md, MDRoles), ",") {
		if v, ok := pb.Role_value[strings.TrimSpace(name)]; ok && v != 0 && !slices.Contains(id.Roles, pb.Role(v)) {
			id.Roles = append(id.Roles, pb.Role(v))
		}
	}
	return id, true
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
