package statesvc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/statesvc"
)

// events subscribes to a room's channel and returns a function that reads
// the next event (failing the test after a second).
func events(t *testing.T, st stores, room string) (next func() *pb.RoomEvent, none func()) {
	t.Helper()
	ctx := ctxT(t)
	sub := st.rdb.Subscribe(ctx, st.prefix+"room:"+room)
	t.Cleanup(func() { _ = sub.Close() })
	_, err := sub.Receive(ctx)
	require.NoError(t, err)
	ch := sub.Channel()
	next = func() *pb.RoomEvent {
		t.Helper()
		select {
		case m := <-ch:
			ev := new(pb.RoomEvent)
			require.NoError(t, proto.Unmarshal([]byte(m.Payload), ev))
			return ev
		case <-time.After(time.Second):
			t.Fatal("no room event within 1s")
			return nil
		}
	}
	none = func() {
		t.Helper()
		select {
		case m := <-ch:
			t.Fatalf("unexpected room event %q", m.Payload)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return next, none
}

// TestChatIsOneStep: one SaveChatMessage checks the seat, the rate limit
// and the version, keeps the message and publishes it; a refused one
// neither keeps nor publishes anything.
func TestChatIsOneStep(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	room := saveRoom(t, c, &pb.Room{Id: "r"})
	next, none := events(t, st, "r")
	post := func(id, user string, version int64) (*pb.SaveChatMessageResponse, error) {
		return c.SaveChatMessage(ctx, &pb.SaveChatMessageRequest{
			Message:   &pb.ChatMessage{Id: id, RoomId: "r", UserId: user, Text: "hi " + id},
			RateLimit: 2, RateWindow: durationpb.New(6 * time.Second), Version: version,
		})
	}

	_, err := post("m0", "alice", 0)
	requireRefused(t, err, codes.FailedPrecondition, "NOT_IN_ROOM")
	_, err = c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "r", Member: &pb.Member{
		User: &pb.User{Id: "alice", DisplayName: "Alice", Color: "#112233"}, ConnectionId: "c1"}})
	require.NoError(t, err)
	require.NotNil(t, next().GetUserJoined())

	res, err := post("m1", "alice", room.GetVersion())
	require.NoError(t, err)
	require.Equal(t, "Alice", res.GetMessage().GetDisplayName(), "name and color come from the seat")
	require.Equal(t, "#112233", res.GetMessage().GetColor())
	ev := next()
	require.Equal(t, "hi m1", ev.GetChat().GetMessage().GetText())
	require.NotEmpty(t, ev.GetEventId())

	_, err = post("m2", "alice", 0)
	require.NoError(t, err)
	next()
	_, err = post("m3", "alice", 0)
	requireRefused(t, err, codes.ResourceExhausted, "RATE_LIMITED")
	none()
	st.clk.Advance(6 * time.Second)
	_, err = post("m3", "alice", 0)
	require.NoError(t, err)
	next()

	// Another writer changed the room: a post decided on the old version
	// changes nothing and answers the current room.
	upd := updateRoom(t, c, &pb.Room{Id: "r", Settings: &pb.RoomSettings{OnlyOwnerCanChat: ptr(true)}})
	require.NotNil(t, next().GetRoomUpdated())
	res, err = post("m4", "alice", room.GetVersion())
	require.NoError(t, err)
	require.True(t, res.GetStale())
	require.Equal(t, upd.GetVersion(), res.GetRoom().GetVersion())
	require.True(t, res.GetRoom().GetSettings().GetOnlyOwnerCanChat())
	none()
	h, err := c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Equal(t, []string{"hi m1", "hi m2", "hi m3"}, texts(h.GetMessages()))
}

// TestRoomWritesPublishTheirEvents: joins, leaves, settings, ownership and
// kicks publish their events from the state service, in order; a seat
// replacement publishes nothing; a stale join changes nothing.
func TestRoomWritesPublishTheirEvents(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	room := saveRoom(t, c, &pb.Room{Id: "r", OwnerId: "alice"})
	next, none := events(t, st, "r")

	_, err := c.SaveChatMessage(ctx, &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{RoomId: "r", System: true, Text: "welcome"}})
	require.NoError(t, err)
	require.Equal(t, "welcome", next().GetChat().GetMessage().GetText())

	// The owner returns to a held seat: the join clears the hold in the
	// same step and answers members and chat.
	held := proto.CloneOf(room)
	held.OwnerLeftAt = timestamppb.New(st.clk.Now())
	room = updateRoom(t, c, held)
	none() // a held seat is not news to members
	back := proto.CloneOf(room)
	back.OwnerLeftAt = nil
	res, err := c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "r", Member: member("alice", "c1"), Version: room.GetVersion(), RoomUpdate: back, ChatHistory: 10})
	require.NoError(t, err)
	require.Nil(t, res.GetRoom().GetOwnerLeftAt())
	require.Greater(t, res.GetRoom().GetVersion(), room.GetVersion())
	require.Len(t, res.GetMembers(), 1)
	require.Equal(t, []string{"welcome"}, texts(res.GetChatHistory()))
	require.Equal(t, "alice", next().GetUserJoined().GetMember().GetUser().GetId())
	room = res.GetRoom()

	_, err = c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "r", Member: member("alice", "c2")})
	require.NoError(t, err)
	none()

	stale, err := c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "r", Member: member("bob", "c3"), Version: room.GetVersion() - 1})
	require.NoError(t, err)
	require.True(t, stale.GetStale())
	none()
	_, err = c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "r", Member: member("bob", "c3"), Version: room.GetVersion()})
	require.NoError(t, err)
	require.Equal(t, "bob", next().GetUserJoined().GetMember().GetUser().GetId())

	moved := proto.CloneOf(room)
	moved.OwnerId = "bob"
	moved.Settings = &pb.RoomSettings{Name: ptr("Bob's")}
	_, err = c.SaveRoom(ctx, &pb.SaveRoomRequest{Room: moved, Version: room.GetVersion()})
	require.NoError(t, err)
	oc := next().GetOwnerChanged()
	require.Equal(t, "bob", oc.GetOwnerId())
	require.Equal(t, "alice", oc.GetPreviousOwnerId())
	require.Equal(t, "Bob's", next().GetRoomUpdated().GetRoom().GetSettings().GetName())
	sr, err := c.SaveRoom(ctx, &pb.SaveRoomRequest{Room: moved, Version: room.GetVersion()})
	require.NoError(t, err)
	require.True(t, sr.GetStale(), "a second write on the same version is stale")
	none()

	kr, err := c.KickFromRoom(ctx, &pb.KickFromRoomRequest{RoomId: "r", UserId: "alice", ByUserId: "bob", Ban: durationpb.New(time.Minute), Reason: "spam"})
	require.NoError(t, err)
	require.True(t, kr.GetRemoved())
	k := next().GetKicked()
	require.Equal(t, "alice", k.GetUserId())
	require.EqualValues(t, 60, k.GetBanSeconds())
	require.Equal(t, "kicked", next().GetUserLeft().GetReason())

	lr, err := c.RemoveUserFromRoom(ctx, &pb.RemoveUserFromRoomRequest{RoomId: "r", UserId: "bob", Reason: "disconnected"})
	require.NoError(t, err)
	require.True(t, lr.GetRemoved())
	require.EqualValues(t, 0, lr.GetMemberCount())
	require.Equal(t, "disconnected", next().GetUserLeft().GetReason())

	_, err = c.DeleteRoom(ctx, &pb.DeleteRoomRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Equal(t, "r", next().GetRoomDeleted().GetRoomId())
}

// TestRedisLossIsARestart: a service on an empty Redis (a new process on
// the embedded one, or a Redis that restarted) finds everything that must
// last in MongoDB: rooms with their settings, owner and bans, chat,
// friendships, the server settings, guests and refresh tokens.
func TestRedisLossIsARestart(t *testing.T) {
	first := newStores(t)
	inst := start(t, first, statesvc.Config{})
	c := inst.client
	ctx := ctxT(t)

	saveRoom(t, c, &pb.Room{Id: "jam", OwnerId: "ann", PasswordHash: "h", Settings: &pb.RoomSettings{Name: ptr("Jam"), Public: ptr(true)}})
	seat(t, c, "jam", "ann")
	_, err := c.SaveChatMessage(ctx, &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{Id: "c1", RoomId: "jam", UserId: "ann", Text: "before"}})
	require.NoError(t, err)
	_, err = c.KickFromRoom(ctx, &pb.KickFromRoomRequest{RoomId: "jam", UserId: "troll", Ban: durationpb.New(-1)})
	require.NoError(t, err)
	_, err = c.SetFriendStatus(ctx, &pb.SetFriendStatusRequest{UserId: "ann", OtherId: "bob", Status: pb.FriendStatus_ACCEPTED})
	require.NoError(t, err)
	_, err = c.SetFriendStatus(ctx, &pb.SetFriendStatusRequest{UserId: "cat", OtherId: "ann", Status: pb.FriendStatus_OUTGOING})
	require.NoError(t, err)
	_, err = c.SetConfig(ctx, &pb.SetConfigRequest{Config: &pb.ServerConfig{Motd: "hello again"}})
	require.NoError(t, err)
	_, err = c.SaveUser(ctx, &pb.SaveUserRequest{User: &pb.User{Id: "g-1", DisplayName: "Quiet Fox", Guest: true, Color: "#abcdef"}})
	require.NoError(t, err)
	_, err = c.StoreRefreshToken(ctx, &pb.StoreRefreshTokenRequest{TokenId: "t1", UserId: "ann", FamilyId: "f1", Ttl: durationpb.New(time.Hour)})
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, inst.svc.Close(cctx))

	// The same MongoDB, a Redis without any of it.
	second := first
	second.prefix = first.prefix + "after:"
	c = start(t, second, statesvc.Config{}).client

	rooms, err := c.ListRooms(ctx, &pb.ListRoomsRequest{})
	require.NoError(t, err)
	require.Len(t, rooms.GetRooms(), 1)
	jam := rooms.GetRooms()[0]
	require.Equal(t, "Jam", jam.GetSettings().GetName())
	require.Equal(t, "ann", jam.GetOwnerId())
	require.True(t, jam.GetHasPassword())
	h, err := c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "jam"})
	require.NoError(t, err)
	require.Equal(t, []string{"before"}, texts(h.GetMessages()))
	_, err = c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "jam", Member: member("troll", "c9")})
	requireRefused(t, err, codes.PermissionDenied, "BANNED")

	fs, err := c.ListFriendIDs(ctx, &pb.ListFriendIDsRequest{UserId: "ann"})
	require.NoError(t, err)
	require.Equal(t, []*pb.FriendEntry{
		{UserId: "bob", Status: pb.FriendStatus_ACCEPTED}, {UserId: "cat", Status: pb.FriendStatus_INCOMING},
	}, fs.GetFriends())
	cfg, err := c.GetConfig(ctx, &pb.GetConfigRequest{})
	require.NoError(t, err)
	require.Equal(t, "hello again", cfg.GetMotd())
	g, err := c.GetUser(ctx, &pb.GetUserRequest{UserId: "g-1"})
	require.NoError(t, err)
	require.Equal(t, "Quiet Fox", g.GetDisplayName())
	rec, err := c.ConsumeRefreshToken(ctx, &pb.ConsumeRefreshTokenRequest{TokenId: "t1"})
	require.NoError(t, err)
	require.Equal(t, "ann", rec.GetUserId())
	require.False(t, rec.GetReused())
}

// TestRestoredWithoutAsking: after a flush, the watcher puts the rooms
// back by itself (within its interval), so an edge that only publishes
// finds its rooms.
func TestRestoredWithoutAsking(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{RestoreCheckInterval: 20 * time.Millisecond}).client
	saveRoom(t, c, &pb.Room{Id: "kept"})
	ctx := ctxT(t)
	keys, err := st.rdb.Keys(ctx, st.prefix+"*").Result()
	require.NoError(t, err)
	require.NoError(t, st.rdb.Del(ctx, keys...).Err()) // this test's share of a flush
	require.Eventually(t, func() bool {
		n, err := st.rdb.Exists(ctx, st.prefix+"room:kept").Result()
		return err == nil && n == 1
	}, 5*time.Second, 10*time.Millisecond)
	ids, err := st.rdb.ZRange(ctx, st.prefix+"rooms", 0, -1).Result()
	require.NoError(t, err)
	require.Equal(t, []string{"kept"}, ids)
}

// TestManyChangesOneArchivedRoom: a room changed many times in a row is
// archived as it was last (the writer sends only the last write of a
// document per bulk write, and never an older one after a newer).
func TestManyChangesOneArchivedRoom(t *testing.T) {
	st := newStores(t)
	inst := start(t, st, statesvc.Config{})
	c := inst.client
	saveRoom(t, c, &pb.Room{Id: "busy"})
	for i := range 50 {
		updateRoom(t, c, &pb.Room{Id: "busy", Settings: &pb.RoomSettings{Name: ptr(fmt.Sprint("name ", i))}})
	}
	ctx := ctxT(t)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, inst.svc.Close(cctx))
	after := st
	after.prefix += "after:"
	r, err := start(t, after, statesvc.Config{}).client.GetRoom(ctx, &pb.GetRoomRequest{RoomId: "busy"})
	require.NoError(t, err)
	require.Equal(t, "name 49", r.GetSettings().GetName())
	require.EqualValues(t, 52, r.GetVersion(), "one past the 51st write")
}

// TestGuestsArchivedAsLastSaved: guests saved while others arrive (their
// saves written together, inserted as new documents) and saved again once
// archived (the insert finds the document, the save replaces it) are
// restored from MongoDB as they were last saved.
func TestGuestsArchivedAsLastSaved(t *testing.T) {
	st := newStores(t)
	inst := start(t, st, statesvc.Config{})
	c := inst.client
	ctx := ctxT(t)
	save := func(id, name string) {
		t.Helper()
		_, err := c.SaveUser(ctx, &pb.SaveUserRequest{User: &pb.User{Id: id, DisplayName: name, Guest: true, Color: "#abcdef"}})
		require.NoError(t, err)
	}
	for i := range 20 {
		save(fmt.Sprint("g-", i), fmt.Sprint("Guest ", i))
		_, err := c.SetOnline(ctx, &pb.SetOnlineRequest{UserId: fmt.Sprint("g-", i), InstanceId: "edge-1", ConnectionId: fmt.Sprint("c", i)})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		n, err := st.db.Collection("guests").CountDocuments(ctx, bson.D{})
		return err == nil && n == 20
	}, 10*time.Second, 10*time.Millisecond, "the first saves archived")
	save("g-3", "Renamed Fox")
	save("g-20", "Late Owl")
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, inst.svc.Close(cctx))

	after := st
	after.prefix += "after:"
	c = start(t, after, statesvc.Config{}).client
	for id, want := range map[string]string{"g-0": "Guest 0", "g-3": "Renamed Fox", "g-19": "Guest 19", "g-20": "Late Owl"} {
		g, err := c.GetUser(ctx, &pb.GetUserRequest{UserId: id})
		require.NoError(t, err, id)
		require.Equal(t, want, g.GetDisplayName(), id)
	}
}
