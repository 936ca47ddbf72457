package auth

import (
	"context"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// incoming turns the metadata a caller would send with id into a server
// side context, as gRPC delivers it.
func incoming(id Identity) context.Context {
	out := OutgoingContext(context.Background(), id)
	md, _ := metadata.FromOutgoingContext(out)
	return metadata.NewIncomingContext(context.Background(), md)
}

func TestIdentityTravelsInMetadata(t *testing.T) {
	want := Identity{UserID: "u1", DisplayName: "Ann", Roles: []pb.Role{pb.Role_MEMBER, pb.Role_MODERATOR}}
	ctx, err := Authenticate(WithPeer(incoming(want), "edge"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := FromContext(ctx)
	if !ok || got.UserID != want.UserID || got.DisplayName != want.DisplayName || !got.Staff() || got.Guest {
		t.Fatalf("identity = %+v, %v; want %+v", got, ok, want)
	}
}

// TestIdentityMetadataNeedsAnAuthenticatedPeer: the same metadata from a
// caller that is not an authenticated service is refused, not ignored, so
// a forged ADMIN never turns into an anonymous call that half works.
func TestIdentityMetadataNeedsAnAuthenticatedPeer(t *testing.T) {
	forged := Identity{UserID: "u1", Roles: []pb.Role{pb.Role_ADMIN}}
	ctx, err := Authenticate(incoming(forged), nil)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Authenticate without a peer = %v, want Unauthenticated", err)
	}
	if _, ok := FromContext(ctx); ok {
		t.Fatal("the forged identity reached the context")
	}
}

func TestRequireStaff(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"anonymous", context.Background(), codes.Unauthenticated},
		{"guest", NewContext(context.Background(), Identity{UserID: "g", Guest: true, Roles: []pb.Role{pb.Role_GUEST}}), codes.PermissionDenied},
		{"pro member", NewContext(context.Background(), Identity{UserID: "m", Roles: []pb.Role{pb.Role_MEMBER, pb.Role_PRO}}), codes.PermissionDenied},
		{"moderator", NewContext(context.Background(), Identity{UserID: "mod", Roles: []pb.Role{pb.Role_MODERATOR}}), codes.OK},
		{"admin", NewContext(context.Background(), Identity{UserID: "adm", Roles: []pb.Role{pb.Role_ADMIN}}), codes.OK},
		{"internal service", NewContext(context.Background(), System("ghost-tracker")), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RequireStaff(tt.ctx)
			if got := status.Code(err); got != tt.want {
				t.Fatalf("RequireStaff = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "": "",
	} {
		if got := BearerToken(header); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", header, got, want)
		}
	}
}
