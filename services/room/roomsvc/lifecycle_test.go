package roomsvc_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/room/roomsvc"
)

func TestRoomLifecycle(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "open", Settings: &pb.RoomSettings{Color: proto.String("#aabbcc")}}))
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "hidden", Settings: &pb.RoomSettings{Public: proto.Bool(false)}}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "open"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "open"}))

	t.Run("create rejects", func(t *testing.T) {
		for name, req := range map[string]*pb.CreateRoomRequest{
			"taken id":       {RoomId: "open"},
			"lobby id":       {RoomId: "lobby-7"},
			"bad id":         {RoomId: "a/b"},
			"too many seats": {RoomId: "big", Settings: &pb.RoomSettings{MaxPlayers: proto.Int32(21)}},
			"bad color":      {RoomId: "c", Settings: &pb.RoomSettings{Color: proto.String("red")}},
			"empty name":     {RoomId: "n", Settings: &pb.RoomSettings{Name: proto.String(" ")}},
		} {
			t.Run(name, func(t *testing.T) {
				if _, err := e.rooms.CreateRoom(as(carol), req); err == nil {
					t.Fatal("created")
				}
			})
		}
		_, err := e.rooms.CreateRoom(auth.OutgoingContext(t.Context(), auth.Identity{}), &pb.CreateRoomRequest{})
		wantReason(t, err, "UNAUTHENTICATED")
	})

	t.Run("list shows public rooms with member counts", func(t *testing.T) {
		list := must[*pb.ListRoomsResponse](t)(e.rooms.ListRooms(as(carol), &pb.ListRoomsRequest{}))
		counts := map[string]int32{}
		for _, r := range list.GetRooms() {
			counts[r.GetId()] = r.GetMemberCount()
			if r.GetPasswordHash() != "" {
				t.Errorf("room %s leaks its hash", r.GetId())
			}
		}
		if _, ok := counts["hidden"]; ok {
			t.Errorf("private room listed: %v", counts)
		}
		if counts["open"] != 2 {
			t.Errorf("open has %d members listed, want 2 (%v)", counts["open"], counts)
		}
		if _, ok := counts["lobby"]; !ok {
			t.Errorf("lobby not listed: %v", counts)
		}
		_, err := e.rooms.ListRooms(as(carol), &pb.ListRoomsRequest{IncludePrivate: true})
		wantReason(t, err, "PERMISSION_DENIED")
		all := must[*pb.ListRoomsResponse](t)(e.rooms.ListRooms(as(mod), &pb.ListRoomsRequest{IncludePrivate: true}))
		if len(all.GetRooms()) != len(list.GetRooms())+1 {
			t.Errorf("staff listing has %d rooms, want %d", len(all.GetRooms()), len(list.GetRooms())+1)
		}
	})

	t.Run("update settings", func(t *testing.T) {
		_, err := e.rooms.UpdateRoomSettings(as(bob), &pb.UpdateRoomSettingsRequest{RoomId: "open", Settings: &pb.RoomSettings{Name: proto.String("mine")}})
		wantReason(t, err, "PERMISSION_DENIED")
		r := must[*pb.Room](t)(e.rooms.UpdateRoomSettings(as(alice), &pb.UpdateRoomSettingsRequest{RoomId: "open", Settings: &pb.RoomSettings{
			Name: proto.String("Open stage"), OnlyOwnerCanPlay: proto.Bool(true), Password: proto.String("s3"),
		}}))
		s := r.GetSettings()
		if s.GetName() != "Open stage" || !s.GetOnlyOwnerCanPlay() || s.GetColor() != "#aabbcc" || !r.GetHasPassword() || r.GetPasswordHash() != "" {
			t.Fatalf("room after update = %v", r)
		}
		r = must[*pb.Room](t)(e.rooms.UpdateRoomSettings(as(mod), &pb.UpdateRoomSettingsRequest{RoomId: "open", Settings: &pb.RoomSettings{Password: proto.String("")}}))
		if r.GetHasPassword() {
			t.Fatal("password not removed by a moderator")
		}
		got := must[*pb.Room](t)(e.rooms.GetRoom(as(carol), &pb.GetRoomRequest{RoomId: "open"}))
		if got.GetSettings().GetName() != "Open stage" {
			t.Fatalf("GetRoom = %v", got)
		}
		updated := 0
		for _, ev := range e.be.events(t, "open") {
			if ev.GetRoomUpdated() != nil {
				updated++
			}
		}
		if updated != 2 {
			t.Errorf("RoomUpdated events = %d, want 2", updated)
		}
	})

	t.Run("delete", func(t *testing.T) {
		_, err := e.rooms.DeleteRoom(as(bob), &pb.DeleteRoomRequest{RoomId: "open"})
		wantReason(t, err, "PERMISSION_DENIED")
		_, err = e.rooms.DeleteRoom(as(admin), &pb.DeleteRoomRequest{RoomId: "lobby"})
		wantReason(t, err, "PERMISSION_DENIED")
		must[any](t)(e.rooms.DeleteRoom(as(alice), &pb.DeleteRoomRequest{RoomId: "open"}))
		_, err = e.rooms.GetRoom(as(alice), &pb.GetRoomRequest{RoomId: "open"})
		wantReason(t, err, "NOT_FOUND")
		evs := e.be.events(t, "open")
		if len(evs) == 0 || evs[len(evs)-1].GetRoomDeleted() == nil {
			t.Fatalf("last event is not RoomDeleted: %v", evs)
		}
		// The id is free again.
		must[*pb.Room](t)(e.rooms.CreateRoom(as(bob), &pb.CreateRoomRequest{RoomId: "open"}))
	})
}

func TestEmptyRoomRemovedAfterGrace(t *testing.T) {
	e := newEnv(t, roomsvc.Config{EmptyRoomGrace: 30 * time.Second})
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "brief"}))
	must[*pb.Room](t)(e.rooms.CreateRoom(as(alice), &pb.CreateRoomRequest{RoomId: "nobody"}))
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{RoomId: "brief"}))
	e.advance(20 * time.Second)
	must[any](t)(e.rooms.LeaveRoom(as(alice), &pb.LeaveRoomRequest{RoomId: "brief"}))
	e.advance(15 * time.Second) // "nobody" was empty for 35s, "brief" for 15s
	waitGone(t, e, "nobody")
	must[*pb.Room](t)(e.rooms.GetRoom(as(bob), &pb.GetRoomRequest{RoomId: "brief"}))

	// A joiner within the grace keeps the room.
	must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "brief"}))
	e.advance(time.Minute)
	must[*pb.Room](t)(e.rooms.GetRoom(as(bob), &pb.GetRoomRequest{RoomId: "brief"}))
	must[any](t)(e.rooms.LeaveRoom(as(bob), &pb.LeaveRoomRequest{RoomId: "brief"}))
	e.advance(30 * time.Second)
	waitGone(t, e, "brief")
}

// waitGone checks the room is gone once its actor handled the expiry
// notice the clock told it: a later command to the same actor queues
// behind that notice, so no polling is needed.
func waitGone(t *testing.T, e *env, id string) { waitGoneOn(t, e.rooms, id) }

// waitGoneOn is waitGone through the instance c, the one whose actor holds
// the timer.
func waitGoneOn(t *testing.T, c pb.RoomServiceClient, id string) {
	t.Helper()
	_, err := c.ClaimOwnership(as(admin), &pb.ClaimOwnershipRequest{RoomId: id})
	wantReason(t, err, "NOT_FOUND")
	_, err = c.GetRoom(as(admin), &pb.GetRoomRequest{RoomId: id})
	wantReason(t, err, "NOT_FOUND")
}

func TestLobbies(t *testing.T) {
	e := newEnv(t, roomsvc.Config{LobbyCapacity: 2})
	users := make([]auth.Identity, 5)
	for i := range users {
		users[i] = auth.Identity{UserID: fmt.Sprintf("u%d", i), DisplayName: fmt.Sprintf("U%d", i), Roles: []pb.Role{pb.Role_MEMBER}}
	}
	var landed []string
	for _, u := range users {
		resp := must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(u), &pb.JoinRoomRequest{RoomId: "lobby"}))
		landed = append(landed, resp.GetRoom().GetId())
		if !resp.GetRoom().GetLobby() || resp.GetRoom().GetOwnerId() != "" {
			t.Fatalf("lobby room = %v", resp.GetRoom())
		}
	}
	want := []string{"lobby", "lobby", "lobby-2", "lobby-2", "lobby-3"}
	if fmt.Sprint(landed) != fmt.Sprint(want) {
		t.Fatalf("landed in %v, want %v", landed, want)
	}
	// The last one out of lobby-3 removes it; lobby stays even when empty.
	must[any](t)(e.rooms.LeaveRoom(as(users[4]), &pb.LeaveRoomRequest{RoomId: "lobby-3"}))
	_, err := e.rooms.GetRoom(as(alice), &pb.GetRoomRequest{RoomId: "lobby-3"})
	wantReason(t, err, "NOT_FOUND")
	for _, u := range users[:2] {
		must[any](t)(e.rooms.LeaveRoom(as(u), &pb.LeaveRoomRequest{RoomId: "lobby"}))
	}
	e.advance(time.Hour)
	must[*pb.Room](t)(e.rooms.GetRoom(as(alice), &pb.GetRoomRequest{RoomId: "lobby"}))
	// Lobbies cannot be deleted, have no owner to claim.
	_, err = e.rooms.DeleteRoom(as(admin), &pb.DeleteRoomRequest{RoomId: "lobby-2"})
	wantReason(t, err, "PERMISSION_DENIED")
	_, err = e.rooms.ClaimOwnership(as(users[2]), &pb.ClaimOwnershipRequest{RoomId: "lobby-2"})
	wantReason(t, err, "PERMISSION_DENIED")
	// The lobby has space again: the next joiner lands there.
	resp := must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(alice), &pb.JoinRoomRequest{}))
	if resp.GetRoom().GetId() != "lobby" {
		t.Fatalf("landed in %s", resp.GetRoom().GetId())
	}
	// A joiner aiming at a removed overflow lobby is placed anyway.
	resp = must[*pb.JoinRoomResponse](t)(e.rooms.JoinRoom(as(bob), &pb.JoinRoomRequest{RoomId: "lobby-3"}))
	if resp.GetRoom().GetId() != "lobby-3" {
		t.Fatalf("landed in %s", resp.GetRoom().GetId())
	}
}

// TestSweepRemovesRoomsLeftEmpty: a room left empty by an earlier run (no
// actor anywhere) is removed after the grace once a room service starts.
func TestSweepRemovesRoomsLeftEmpty(t *testing.T) {
	e := newEnv(t, roomsvc.Config{})
	for _, id := range []string{"orphan", "lobby-4"} {
		must[*pb.SaveRoomResponse](t)(e.state.SaveRoom(as(admin), &pb.SaveRoomRequest{CreateOnly: true, Room: &pb.Room{Id: id, Lobby: id != "orphan", Settings: &pb.RoomSettings{MaxPlayers: proto.Int32(5)}}}))
	}
	_, second := e.startInstance()
	e.advance(30 * time.Second)
	waitGoneOn(t, second, "orphan")
	waitGoneOn(t, second, "lobby-4")
	must[*pb.Room](t)(e.rooms.GetRoom(as(admin), &pb.GetRoomRequest{RoomId: "lobby"}))
}

func TestConfigValidate(t *testing.T) {
	for name, cfg := range map[string]roomsvc.Config{
		"negative grace":  {EmptyRoomGrace: -time.Second},
		"negative hold":   {OwnerSeatHold: -1},
		"huge chat limit": {ChatLimit: 2_000_000},
		"negative rooms":  {RoomCapacity: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if err := cfg.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if err := (roomsvc.Config{}).Validate(); err != nil {
		t.Fatalf("zero config refused: %v", err)
	}
	if _, err := roomsvc.New(roomsvc.Config{}, roomsvc.Deps{}); err == nil {
		t.Fatal("New without state accepted")
	}
}
