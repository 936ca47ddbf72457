package statesvc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/statesvc"
)

func TestUsersPresenceFriends(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)

	_, err := c.GetUser(ctx, &pb.GetUserRequest{UserId: "alice"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
	_, err = c.SaveUser(ctx, &pb.SaveUserRequest{User: &pb.User{Id: "alice", DisplayName: "Alice", Color: "#112233", Roles: []pb.Role{pb.Role_MEMBER}}})
	require.NoError(t, err)
	u, err := c.GetUser(ctx, &pb.GetUserRequest{UserId: "alice"})
	require.NoError(t, err)
	require.Equal(t, "Alice", u.GetDisplayName())

	_, err = c.SetOnline(ctx, &pb.SetOnlineRequest{UserId: "alice", InstanceId: "edge-1", ConnectionId: "c1"})
	require.NoError(t, err)
	_, err = c.SetOnline(ctx, &pb.SetOnlineRequest{UserId: "bob", InstanceId: "edge-2", ConnectionId: "c2"})
	require.NoError(t, err)
	saveRoom(t, c, &pb.Room{Id: "r"})
	_, err = c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "r", Member: member("alice", "c1")})
	require.NoError(t, err)

	ps, err := c.GetPresence(ctx, &pb.GetPresenceRequest{UserIds: []string{"alice", "bob", "carol"}})
	require.NoError(t, err)
	require.Len(t, ps.GetPresences(), 3)
	require.True(t, ps.GetPresences()[0].GetOnline())
	require.Equal(t, "r", ps.GetPresences()[0].GetRoomId())
	require.Equal(t, "edge-1", ps.GetPresences()[0].GetInstanceId())
	require.Equal(t, "", ps.GetPresences()[1].GetRoomId())
	require.False(t, ps.GetPresences()[2].GetOnline())

	// alice reconnects through edge-2: edge-1 no longer lists her.
	_, err = c.SetOnline(ctx, &pb.SetOnlineRequest{UserId: "alice", InstanceId: "edge-2", ConnectionId: "c3"})
	require.NoError(t, err)
	ip, err := c.ListInstancePresence(ctx, &pb.ListInstancePresenceRequest{InstanceId: "edge-1"})
	require.NoError(t, err)
	require.Empty(t, ip.GetPresences())
	ip, err = c.ListInstancePresence(ctx, &pb.ListInstancePresenceRequest{InstanceId: "edge-2"})
	require.NoError(t, err)
	require.Len(t, ip.GetPresences(), 2)

	// A stale connection's offline does not clear the new one.
	p, err := c.SetOffline(ctx, &pb.SetOfflineRequest{UserId: "alice", ConnectionId: "c1"})
	require.NoError(t, err)
	require.True(t, p.GetOnline())
	p, err = c.SetOffline(ctx, &pb.SetOfflineRequest{UserId: "alice", ConnectionId: "c3"})
	require.NoError(t, err)
	require.False(t, p.GetOnline())
	ip, err = c.ListInstancePresence(ctx, &pb.ListInstancePresenceRequest{InstanceId: "edge-2"})
	require.NoError(t, err)
	require.Len(t, ip.GetPresences(), 1)

	friends := func(uid string) map[string]pb.FriendStatus {
		res, err := c.ListFriendIDs(ctx, &pb.ListFriendIDsRequest{UserId: uid})
		require.NoError(t, err)
		out := map[string]pb.FriendStatus{}
		for _, f := range res.GetFriends() {
			out[f.GetUserId()] = f.GetStatus()
		}
		return out
	}
	_, err = c.SetFriendStatus(ctx, &pb.SetFriendStatusRequest{UserId: "alice", OtherId: "bob", Status: pb.FriendStatus_OUTGOING})
	require.NoError(t, err)
	require.Equal(t, map[string]pb.FriendStatus{"bob": pb.FriendStatus_OUTGOING}, friends("alice"))
	require.Equal(t, map[string]pb.FriendStatus{"alice": pb.FriendStatus_INCOMING}, friends("bob"))
	_, err = c.SetFriendStatus(ctx, &pb.SetFriendStatusRequest{UserId: "bob", OtherId: "alice", Status: pb.FriendStatus_ACCEPTED})
	require.NoError(t, err)
	require.Equal(t, map[string]pb.FriendStatus{"bob": pb.FriendStatus_ACCEPTED}, friends("alice"))
	_, err = c.SetFriendStatus(ctx, &pb.SetFriendStatusRequest{UserId: "alice", OtherId: "bob"})
	require.NoError(t, err)
	require.Empty(t, friends("alice"))
	require.Empty(t, friends("bob"))
	_, err = c.SetFriendStatus(ctx, &pb.SetFriendStatusRequest{UserId: "alice", OtherId: "alice", Status: pb.FriendStatus_ACCEPTED})
	requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
}

func TestRefreshTokens(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	store := func(tok, fam string) error {
		_, err := c.StoreRefreshToken(ctx, &pb.StoreRefreshTokenRequest{TokenId: tok, UserId: "alice", FamilyId: fam, Ttl: durationpb.New(time.Hour)})
		return err
	}
	require.NoError(t, store("t1", "f1"))
	requireRefused(t, store("t1", "f1"), codes.AlreadyExists, "ALREADY_EXISTS")

	rec, err := c.ConsumeRefreshToken(ctx, &pb.ConsumeRefreshTokenRequest{TokenId: "t1"})
	require.NoError(t, err)
	require.Equal(t, "alice", rec.GetUserId())
	require.Equal(t, "f1", rec.GetFamilyId())
	require.False(t, rec.GetReused())
	rec, err = c.ConsumeRefreshToken(ctx, &pb.ConsumeRefreshTokenRequest{TokenId: "t1"})
	require.NoError(t, err)
	require.True(t, rec.GetReused())

	require.NoError(t, store("t2", "f1"))
	_, err = c.RevokeTokenFamily(ctx, &pb.RevokeTokenFamilyRequest{FamilyId: "f1"})
	require.NoError(t, err)
	_, err = c.ConsumeRefreshToken(ctx, &pb.ConsumeRefreshTokenRequest{TokenId: "t2"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
	requireRefused(t, store("t3", "f1"), codes.FailedPrecondition, "")
	_, err = c.ConsumeRefreshToken(ctx, &pb.ConsumeRefreshTokenRequest{TokenId: "unknown"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")
}

func TestHitAndHeartbeat(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	for i := range 4 {
		res, err := c.Hit(ctx, &pb.HitRequest{Key: "login:user:alice", Limit: 3, Window: durationpb.New(time.Hour)})
		require.NoError(t, err)
		require.Equal(t, i < 3, res.GetAllowed(), "hit %d", i)
		require.EqualValues(t, max(0, 2-i), res.GetRemaining())
		if i == 3 {
			require.Equal(t, time.Hour, res.GetRetryAfter().AsDuration(), "the window started with the first hit, on the service clock")
		}
	}
	// The service's clock, not Redis, ends the window: works on a real Redis too.
	st.clk.Advance(time.Hour)
	res, err := c.Hit(ctx, &pb.HitRequest{Key: "login:user:alice", Limit: 3, Window: durationpb.New(time.Hour)})
	require.NoError(t, err)
	require.True(t, res.GetAllowed(), "a hit in the next window")
	require.EqualValues(t, 2, res.GetRemaining())
	// A peek says what a hit would give and counts nothing.
	for range 3 {
		res, err = c.Hit(ctx, &pb.HitRequest{Key: "login:user:alice", Limit: 3, Window: durationpb.New(time.Hour), Peek: true})
		require.NoError(t, err)
		require.True(t, res.GetAllowed())
		require.EqualValues(t, 1, res.GetRemaining())
	}
	for range 2 {
		_, err = c.Hit(ctx, &pb.HitRequest{Key: "login:user:alice", Limit: 3, Window: durationpb.New(time.Hour)})
		require.NoError(t, err)
	}
	res, err = c.Hit(ctx, &pb.HitRequest{Key: "login:user:alice", Limit: 3, Window: durationpb.New(time.Hour), Peek: true})
	require.NoError(t, err)
	require.False(t, res.GetAllowed(), "the window is used up")
	require.Equal(t, time.Hour, res.GetRetryAfter().AsDuration())

	_, err = c.Heartbeat(ctx, &pb.HeartbeatRequest{InstanceId: "edge-1"})
	require.NoError(t, err)
	_, err = c.Heartbeat(ctx, &pb.HeartbeatRequest{InstanceId: "edge-2", Ttl: durationpb.New(time.Minute)})
	require.NoError(t, err)
	list, err := c.ListInstances(ctx, &pb.ListInstancesRequest{})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"edge-1", "edge-2"}, list.GetInstanceIds())
	st.clk.Advance(31 * time.Second)
	list, err = c.ListInstances(ctx, &pb.ListInstancesRequest{})
	require.NoError(t, err)
	require.Equal(t, []string{"edge-2"}, list.GetInstanceIds())
	ttl, err := st.rdb.PTTL(ctx, st.prefix+"instance:edge-2").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 50*time.Second)
}

func TestPublish(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	sub := st.rdb.Subscribe(ctx, st.prefix+"room:r", st.prefix+"user:alice")
	defer sub.Close()
	_, err := sub.Receive(ctx) // subscription confirmed
	require.NoError(t, err)
	_, err = sub.Receive(ctx)
	require.NoError(t, err)

	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	res, err := c.PublishRoomEvent(ctx, &pb.RoomEvent{
		RoomId: "r", Trace: map[string]string{"traceparent": tp},
		Event: &pb.RoomEvent_Chat{Chat: &pb.ChatPosted{Message: &pb.ChatMessage{Text: "hi"}}},
	})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.GetReceivers())
	msg, err := sub.ReceiveMessage(ctx)
	require.NoError(t, err)
	var ev pb.RoomEvent
	require.NoError(t, proto.Unmarshal([]byte(msg.Payload), &ev))
	require.Equal(t, "hi", ev.GetChat().GetMessage().GetText())
	require.Equal(t, tp, ev.GetTrace()["traceparent"])
	require.NotEmpty(t, ev.GetEventId())
	require.NotNil(t, ev.GetAt())

	_, err = c.PublishUserEvent(ctx, &pb.UserEvent{UserId: "alice", Event: &pb.UserEvent_Disconnect{Disconnect: &pb.Disconnect{Code: 4008}}})
	require.NoError(t, err)
	msg, err = sub.ReceiveMessage(ctx)
	require.NoError(t, err)
	var uev pb.UserEvent
	require.NoError(t, proto.Unmarshal([]byte(msg.Payload), &uev))
	require.EqualValues(t, 4008, uev.GetDisconnect().GetCode())

	// Without a trace in the event, the request's own trace context goes in.
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	sctx := trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled, Remote: true,
	}))
	_, err = c.PublishRoomEvent(sctx, &pb.RoomEvent{RoomId: "r", Event: &pb.RoomEvent_RoomDeleted{RoomDeleted: &pb.RoomDeleted{RoomId: "r"}}})
	require.NoError(t, err)
	msg, err = sub.ReceiveMessage(ctx)
	require.NoError(t, err)
	require.NoError(t, proto.Unmarshal([]byte(msg.Payload), &ev))
	require.Contains(t, ev.GetTrace()["traceparent"], traceID.String())

	_, err = c.PublishRoomEvent(ctx, &pb.RoomEvent{RoomId: "r"})
	requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
}

func TestValidation(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	long := strings.Repeat("a", 65)
	cases := map[string]func() error{
		"get user empty":      func() error { _, err := c.GetUser(ctx, &pb.GetUserRequest{}); return err },
		"get user too long":   func() error { _, err := c.GetUser(ctx, &pb.GetUserRequest{UserId: long}); return err },
		"get user colon":      func() error { _, err := c.GetUser(ctx, &pb.GetUserRequest{UserId: "a:b"}); return err },
		"save user nil":       func() error { _, err := c.SaveUser(ctx, &pb.SaveUserRequest{}); return err },
		"join without member": func() error { _, err := c.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "r"}); return err },
		"room over the storable maximum": func() error {
			_, err := c.SaveRoom(ctx, &pb.SaveRoomRequest{Room: &pb.Room{Id: "r", Settings: &pb.RoomSettings{MaxPlayers: ptr(int32(10_001))}}})
			return err
		},
		"lobby too big": func() error {
			_, err := c.SaveRoom(ctx, &pb.SaveRoomRequest{Room: &pb.Room{Id: "r", Lobby: true, Settings: &pb.RoomSettings{MaxPlayers: ptr(int32(31))}}})
			return err
		},
		"page size":  func() error { _, err := c.ListRooms(ctx, &pb.ListRoomsRequest{PageSize: 201}); return err },
		"page token": func() error { _, err := c.ListRooms(ctx, &pb.ListRoomsRequest{PageToken: "!!"}); return err },
		"presence many": func() error {
			_, err := c.GetPresence(ctx, &pb.GetPresenceRequest{UserIds: make([]string, 501)})
			return err
		},
		"heartbeat ttl": func() error {
			_, err := c.Heartbeat(ctx, &pb.HeartbeatRequest{InstanceId: "e", Ttl: durationpb.New(2 * time.Hour)})
			return err
		},
		"token no ttl": func() error {
			_, err := c.StoreRefreshToken(ctx, &pb.StoreRefreshTokenRequest{TokenId: "t", UserId: "u", FamilyId: "f"})
			return err
		},
		"hit no limit": func() error {
			_, err := c.Hit(ctx, &pb.HitRequest{Key: "k", Window: durationpb.New(time.Second)})
			return err
		},
		"hit key space": func() error {
			_, err := c.Hit(ctx, &pb.HitRequest{Key: "a b", Limit: 1, Window: durationpb.New(time.Second)})
			return err
		},
		"ban too long": func() error {
			_, err := c.KickFromRoom(ctx, &pb.KickFromRoomRequest{RoomId: "r", UserId: "u", Ban: durationpb.New(11 * 365 * 24 * time.Hour)})
			return err
		},
		"set config nil": func() error { _, err := c.SetConfig(ctx, &pb.SetConfigRequest{}); return err },
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			requireRefused(t, call(), codes.InvalidArgument, "INVALID_ARGUMENT")
		})
	}
}
