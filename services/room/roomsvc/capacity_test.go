package roomsvc_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

// TestLargeRoomsAreForStaff: a moderator or admin may give a room up to
// the configured ceiling of seats (a concert), and that many people get
// in; an ordinary member stays capped at the room capacity, whether
// creating or changing a room, and nobody passes the ceiling.
func TestLargeRoomsAreForStaff(t *testing.T) {
	e := newEnv(t, roomsvc.Config{MaxRoomCapacity: 60})
	seats := func(n int32) *pb.RoomSettings { return &pb.RoomSettings{MaxPlayers: proto.Int32(n)} }
	tests := []struct {
		name   string
		caller auth.Identity
		seats  int32
		want   string // "" means created
	}{
		{"member within 20", alice, 20, ""},
		{"member over 20", alice, 21, "INVALID_ARGUMENT"},
		{"moderator large", mod, 60, ""},
		{"admin large", admin, 45, ""},
		{"admin over the ceiling", admin, 61, "INVALID_ARGUMENT"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.rooms.CreateRoom(as(tt.caller), &pb.CreateRoomRequest{RoomId: fmt.Sprintf("cap-%d", i), Settings: seats(tt.seats)})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("create with %d seats: %v", tt.seats, err)
				}
				return
			}
			wantReason(t, err, tt.want)
		})
	}

	t.Run("a member owner cannot enlarge, staff can", func(t *testing.T) {
		_, err := e.rooms.UpdateRoomSettings(as(alice), &pb.UpdateRoomSettingsRequest{RoomId: "cap-0", Settings: seats(40)})
		wantReason(t, err, "INVALID_ARGUMENT")
		r := must[*pb.Room](t)(e.rooms.UpdateRoomSettings(as(admin), &pb.UpdateRoomSettingsRequest{RoomId: "cap-0", Settings: seats(40)}))
		if r.GetSettings().GetMaxPlayers() != 40 {
			t.Fatalf("max players %d, want 40", r.GetSettings().GetMaxPlayers())
		}
	})

	t.Run("the large room seats more than 20", func(t *testing.T) {
		for i := range 45 {
			id := auth.Identity{UserID: fmt.Sprintf("fan-%d", i), DisplayName: fmt.Sprintf("Fan %d", i), Roles: []pb.Role{pb.Role_MEMBER}}
			if _, err := e.rooms.JoinRoom(as(id), &pb.JoinRoomRequest{RoomId: "cap-3"}); err != nil {
				t.Fatalf("fan %d: %v", i, err)
			}
		}
		_, err := e.rooms.JoinRoom(as(auth.Identity{UserID: "late", DisplayName: "Late", Roles: []pb.Role{pb.Role_MEMBER}}), &pb.JoinRoomRequest{RoomId: "cap-3"})
		wantReason(t, err, "ROOM_FULL")
	})
}
