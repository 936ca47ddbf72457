package roomview_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/roomview"
)

func TestPublicHidesThePassword(t *testing.T) {
	r := &pb.Room{Id: "jazz", PasswordHash: "$2a$hash", Settings: &pb.RoomSettings{Name: proto.String("Jazz"), Password: proto.String("secret")}}
	p := roomview.Public(r)
	require.Empty(t, p.GetPasswordHash())
	require.Nil(t, p.GetSettings().Password)
	require.True(t, p.GetHasPassword())
	require.Equal(t, "Jazz", p.GetSettings().GetName())
	require.Equal(t, "$2a$hash", r.GetPasswordHash(), "the caller's room is left as it was")
	require.Nil(t, roomview.Public(nil))
}
