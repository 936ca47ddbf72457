package statesvc_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/statesvc"
)

func TestRoomCRUDAndListing(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)

	lobby := saveRoom(t, c, &pb.Room{Id: "lobby", Lobby: true})
	require.NotNil(t, lobby.GetCreatedAt())
	saveRoom(t, c, &pb.Room{Id: "a-public", Settings: &pb.RoomSettings{Public: ptr(true), Password: ptr("secret")}, PasswordHash: "h"})
	saveRoom(t, c, &pb.Room{Id: "b-private", Settings: &pb.RoomSettings{Public: ptr(false)}})
	saveRoom(t, c, &pb.Room{Id: "c-unset"})

	got, err := c.GetRoom(ctx, &pb.GetRoomRequest{RoomId: "a-public"})
	require.NoError(t, err)
	require.True(t, got.GetHasPassword())
	require.Nil(t, got.GetSettings().Password, "password is write-only")

	_, err = c.SaveRoom(ctx, &pb.SaveRoomRequest{Room: &pb.Room{Id: "lobby"}, CreateOnly: true})
	requireRefused(t, err, codes.AlreadyExists, "ALREADY_EXISTS")
	_, err = c.GetRoom(ctx, &pb.GetRoomRequest{RoomId: "nope"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")

	list := func(priv bool, size int32) []string {
		var ids []string
		tok := ""
		for {
			res, err := c.ListRooms(ctx, &pb.ListRoomsRequest{IncludePrivate: priv, PageSize: size, PageToken: tok})
			require.NoError(t, err)
			for _, r := range res.GetRooms() {
				ids = append(ids, r.GetId())
			}
			if tok = res.GetNextPageToken(); tok == "" {
				return ids
			}
		}
	}
	require.Equal(t, []string{"a-public", "lobby"}, list(false, 0))
	require.Equal(t, []string{"a-public", "b-private", "c-unset", "lobby"}, list(true, 1))

	_, err = c.DeleteRoom(ctx, &pb.DeleteRoomRequest{RoomId: "c-unset"})
	require.NoError(t, err)
	_, err = c.DeleteRoom(ctx, &pb.DeleteRoomRequest{RoomId: "c-unset"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
	require.Equal(t, []string{"a-public", "b-private", "lobby"}, list(true, 2))
}

func TestMembership(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	saveRoom(t, c, &pb.Room{Id: "r", Settings: &pb.RoomSettings{MaxPlayers: ptr(int32(2))}})
	saveRoom(t, c, &pb.Room{Id: "closed", Settings: &pb.RoomSettings{Maintenance: ptr(true)}})

	join := func(room, uid, conn string, staff bool) (*pb.AddUserToRoomResponse, error) {
		return c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: room, Member: member(uid, conn), Staff: staff})
	}

	res, err := join("r", "alice", "c1", false)
	require.NoError(t, err)
	require.EqualValues(t, 1, res.GetRoom().GetMemberCount())
	require.False(t, res.GetAlreadyMember())

	// A second join of the same user replaces the connection, not a seat.
	res, err = join("r", "alice", "c2", false)
	require.NoError(t, err)
	require.True(t, res.GetAlreadyMember())
	require.Equal(t, "c1", res.GetPreviousConnectionId())
	require.EqualValues(t, 1, res.GetRoom().GetMemberCount())

	_, err = join("r", "bob", "c3", false)
	require.NoError(t, err)
	_, err = join("r", "carol", "c4", true)
	requireRefused(t, err, codes.ResourceExhausted, "ROOM_FULL")
	_, err = join("missing", "carol", "c4", false)
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")

	ms, err := c.RoomMembers(ctx, &pb.RoomMembersRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Len(t, ms.GetMembers(), 2)
	require.Equal(t, "c2", ms.GetMembers()[0].GetConnectionId())

	// Removing with a stale connection keeps the seat.
	rm, err := c.RemoveUserFromRoom(ctx, &pb.RemoveUserFromRoomRequest{RoomId: "r", UserId: "alice", ConnectionId: "c1"})
	require.NoError(t, err)
	require.False(t, rm.GetRemoved())
	rm, err = c.RemoveUserFromRoom(ctx, &pb.RemoveUserFromRoomRequest{RoomId: "r", UserId: "alice", ConnectionId: "c2"})
	require.NoError(t, err)
	require.True(t, rm.GetRemoved())
	require.EqualValues(t, 1, rm.GetMemberCount())

	t.Run("bans expire", func(t *testing.T) {
		_, err := c.KickFromRoom(ctx, &pb.KickFromRoomRequest{RoomId: "r", UserId: "mallory", Ban: durationpb.New(time.Minute)})
		require.NoError(t, err)
		_, err = join("r", "mallory", "c9", true)
		requireRefused(t, err, codes.PermissionDenied, "BANNED")
		st.clk.Advance(time.Minute + time.Second)
		_, err = join("r", "mallory", "c9", false)
		require.NoError(t, err)
		_, err = c.RemoveUserFromRoom(ctx, &pb.RemoveUserFromRoomRequest{RoomId: "r", UserId: "mallory"})
		require.NoError(t, err)

		_, err = c.KickFromRoom(ctx, &pb.KickFromRoomRequest{RoomId: "r", UserId: "eve", Ban: durationpb.New(-1)})
		require.NoError(t, err)
		st.clk.Advance(1000 * time.Hour)
		_, err = join("r", "eve", "c8", false)
		requireRefused(t, err, codes.PermissionDenied, "BANNED")
		_, err = c.UnbanFromRoom(ctx, &pb.UnbanFromRoomRequest{RoomId: "r", UserId: "eve"})
		require.NoError(t, err)
		_, err = join("r", "eve", "c8", false)
		require.NoError(t, err)
	})

	t.Run("maintenance", func(t *testing.T) {
		_, err := join("closed", "dave", "c5", false)
		requireRefused(t, err, codes.FailedPrecondition, "MAINTENANCE")
		_, err = join("closed", "mod", "c6", true)
		require.NoError(t, err)

		saveRoom(t, c, &pb.Room{Id: "open"})
		_, err = c.SetConfig(ctx, &pb.SetConfigRequest{Config: &pb.ServerConfig{Maintenance: true, Motd: "soon"}})
		require.NoError(t, err)
		cfg, err := c.GetConfig(ctx, &pb.GetConfigRequest{})
		require.NoError(t, err)
		require.True(t, cfg.GetMaintenance())
		require.Equal(t, "soon", cfg.GetMotd())
		_, err = join("open", "dave", "c5", false)
		requireRefused(t, err, codes.FailedPrecondition, "MAINTENANCE")
		_, err = join("open", "admin", "c7", true)
		require.NoError(t, err)
		_, err = c.SetConfig(ctx, &pb.SetConfigRequest{Config: &pb.ServerConfig{}})
		require.NoError(t, err)
		_, err = join("open", "dave", "c5", false)
		require.NoError(t, err)
	})
}

func TestCapacityDefaults(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	for _, tc := range []struct {
		room *pb.Room
		want int
	}{
		{&pb.Room{Id: "room"}, 20},
		{&pb.Room{Id: "lobby", Lobby: true}, 30},
	} {
		t.Run(tc.room.GetId(), func(t *testing.T) {
			saveRoom(t, c, tc.room)
			for i := range tc.want {
				_, err := c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: tc.room.GetId(), Member: member(fmt.Sprint("u", i), "c")})
				require.NoError(t, err)
			}
			_, err := c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: tc.room.GetId(), Member: member("extra", "c")})
			requireRefused(t, err, codes.ResourceExhausted, "ROOM_FULL")
		})
	}
}

// TestJoinRaceAcrossReplicas races 200 joins from two service instances
// sharing one Redis at a 20-seat room: exactly 20 get in.
func TestJoinRaceAcrossReplicas(t *testing.T) {
	st := newStores(t)
	a := start(t, st, statesvc.Config{})
	b := start(t, st, statesvc.Config{})
	ctx := ctxT(t)
	saveRoom(t, a.client, &pb.Room{Id: "hot", Settings: &pb.RoomSettings{MaxPlayers: ptr(int32(20))}})

	var ok, full atomic.Int32
	var wg sync.WaitGroup
	for i := range 200 {
		c := a.client
		if i%2 == 1 {
			c = b.client
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "hot", Member: member(fmt.Sprint("user-", i), fmt.Sprint("conn-", i))})
			switch {
			case err == nil:
				ok.Add(1)
			default:
				requireRefused(t, err, codes.ResourceExhausted, "ROOM_FULL")
				full.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 20, ok.Load())
	require.EqualValues(t, 180, full.Load())
	ms, err := b.client.RoomMembers(ctx, &pb.RoomMembersRequest{RoomId: "hot"})
	require.NoError(t, err)
	require.Len(t, ms.GetMembers(), 20)
	r, err := a.client.GetRoom(ctx, &pb.GetRoomRequest{RoomId: "hot"})
	require.NoError(t, err)
	require.EqualValues(t, 20, r.GetMemberCount())
}
