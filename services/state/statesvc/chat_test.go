package statesvc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/services/state/internal/archive"
	"github.com/pianorhythm/server/services/state/statesvc"
)

func chat(room, id, text string) *pb.SaveChatMessageRequest {
	return &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{Id: id, RoomId: room, UserId: "alice", DisplayName: "Alice", Text: text}}
}

func texts(msgs []*pb.ChatMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.GetText()
	}
	return out
}

func TestChatHistory(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{ChatHistory: 5}).client
	ctx := ctxT(t)
	saveRoom(t, c, &pb.Room{Id: "r"})
	seat(t, c, "r", "alice")

	_, err := c.SaveChatMessage(ctx, chat("missing", "m0", "hi"))
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")

	for i := range 7 {
		st.clk.Advance(time.Second)
		m, err := c.SaveChatMessage(ctx, chat("r", fmt.Sprint("m", i), fmt.Sprint("hello ", i)))
		require.NoError(t, err)
		require.NotNil(t, m.GetMessage().GetSentAt())
	}
	// No id: the service assigns one.
	m, err := c.SaveChatMessage(ctx, chat("r", "", "no id"))
	require.NoError(t, err)
	require.NotEmpty(t, m.GetMessage().GetId())

	h, err := c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Equal(t, []string{"hello 3", "hello 4", "hello 5", "hello 6", "no id"}, texts(h.GetMessages()))
	h, err = c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"hello 6", "no id"}, texts(h.GetMessages()))
	_, err = c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r", Limit: 6})
	requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")

	_, err = c.DeleteChatMessage(ctx, &pb.DeleteChatMessageRequest{RoomId: "r", MessageId: "m5"})
	require.NoError(t, err)
	h, err = c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Equal(t, []string{"hello 3", "hello 4", "hello 6", "no id"}, texts(h.GetMessages()))

	_, err = c.ClearChat(ctx, &pb.ClearChatRequest{RoomId: "r"})
	require.NoError(t, err)
	h, err = c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Empty(t, h.GetMessages(), "cleared chat must not come back from the archive")
	_, err = c.SaveChatMessage(ctx, chat("r", "m9", "after clear"))
	require.NoError(t, err)
	h, err = c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Equal(t, []string{"after clear"}, texts(h.GetMessages()))
}

// TestRecoveryAfterFlushAll flushes Redis (a private miniredis) and reads
// the rooms, their settings and chat history back from MongoDB.
func TestRecoveryAfterFlushAll(t *testing.T) {
	mini, rdb := storetest.MiniRedis(t)
	st := stores{rdb: rdb, db: storetest.Mongo(t), prefix: storetest.Prefix(t), clk: newClock()}
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)

	saveRoom(t, c, &pb.Room{Id: "keep", OwnerId: "alice", Settings: &pb.RoomSettings{Name: ptr("Keep"), Public: ptr(true)}})
	saveRoom(t, c, &pb.Room{Id: "other"})
	saveRoom(t, c, &pb.Room{Id: "gone"})
	_, err := c.DeleteRoom(ctx, &pb.DeleteRoomRequest{RoomId: "gone"})
	require.NoError(t, err)
	seat(t, c, "keep", "alice")
	var want []string
	for i := range 5 {
		st.clk.Advance(time.Second)
		text := fmt.Sprint("msg ", i)
		_, err := c.SaveChatMessage(ctx, chat("keep", fmt.Sprint("k", i), text))
		require.NoError(t, err)
		want = append(want, text)
	}
	// Saving a message twice (a retry) stores it once.
	_, err = c.SaveChatMessage(ctx, chat("keep", "k4", "msg 4"))
	require.NoError(t, err)

	mini.FlushAll()

	h, err := c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "keep"})
	require.NoError(t, err)
	require.Equal(t, want, texts(h.GetMessages()))
	r, err := c.GetRoom(ctx, &pb.GetRoomRequest{RoomId: "keep"})
	require.NoError(t, err)
	require.Equal(t, "Keep", r.GetSettings().GetName())
	require.Equal(t, "alice", r.GetOwnerId())
	_, err = c.GetRoom(ctx, &pb.GetRoomRequest{RoomId: "gone"})
	requireRefused(t, err, codes.NotFound, "NOT_FOUND")

	// A second flush: the first read is a room listing, then a chat from
	// the member an edge put back.
	mini.FlushAll()
	rooms, err := c.ListRooms(ctx, &pb.ListRoomsRequest{IncludePrivate: true})
	require.NoError(t, err)
	var ids []string
	for _, r := range rooms.GetRooms() {
		ids = append(ids, r.GetId())
	}
	require.Equal(t, []string{"keep", "other"}, ids, "every room that existed comes back, the deleted one does not")
	_, err = c.SaveChatMessage(ctx, chat("keep", "k5", "msg 5"))
	requireRefused(t, err, codes.FailedPrecondition, "NOT_IN_ROOM")
	lost, err := c.RestoreInstance(ctx, &pb.RestoreInstanceRequest{InstanceId: "edge-1", Seats: []*pb.InstanceSeat{
		{Member: member("alice", "conn-alice"), RoomId: "keep"}, {Member: member("bob", "conn-bob"), RoomId: "vanished"},
	}})
	require.NoError(t, err)
	require.Equal(t, []string{"vanished"}, lost.GetLostRoomIds())
	_, err = c.SaveChatMessage(ctx, chat("keep", "k5", "msg 5"))
	require.NoError(t, err)
	h, err = c.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "keep"})
	require.NoError(t, err)
	require.Equal(t, append(want, "msg 5"), texts(h.GetMessages()))

	// The archive is written asynchronously (at least once, by id).
	require.Eventually(t, func() bool {
		n, err := st.db.Collection("chat_messages").CountDocuments(ctx, bson.D{{Key: "room_id", Value: "keep"}})
		require.NoError(t, err)
		require.LessOrEqual(t, n, int64(6), "idempotent by message id")
		return n == 6
	}, 10*time.Second, 10*time.Millisecond)
}

// TestCloseFlushesArchive: what was saved before Close is in MongoDB after.
func TestCloseFlushesArchive(t *testing.T) {
	st := newStores(t)
	inst := start(t, st, statesvc.Config{})
	ctx := ctxT(t)
	saveRoom(t, inst.client, &pb.Room{Id: "r"})
	seat(t, inst.client, "r", "alice")
	for i := range 50 {
		_, err := inst.client.SaveChatMessage(ctx, chat("r", fmt.Sprint("id-", i), strings.Repeat("x", i+1)))
		require.NoError(t, err)
	}
	_, err := inst.client.SetOnline(ctx, &pb.SetOnlineRequest{UserId: "alice", InstanceId: "edge-1", ConnectionId: "c1"})
	require.NoError(t, err)
	st.clk.Advance(time.Minute)
	_, err = inst.client.SetOffline(ctx, &pb.SetOfflineRequest{UserId: "alice"})
	require.NoError(t, err)

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, inst.svc.Close(cctx))

	n, err := st.db.Collection("chat_messages").CountDocuments(ctx, bson.D{{Key: "room_id", Value: "r"}})
	require.NoError(t, err)
	require.EqualValues(t, 50, n)
	sessions, err := archive.New(st.db).Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, sessions, 1)
	sess := sessions[0]
	require.Equal(t, "edge-1", sess.InstanceID)
	require.True(t, sess.OnlineAt.Equal(newClock().Now()), "online at %v", sess.OnlineAt)
	require.NotNil(t, sess.OfflineAt, "session end archived")
	require.Equal(t, time.Minute, sess.OfflineAt.Sub(sess.OnlineAt))
}

func TestChatValidation(t *testing.T) {
	st := newStores(t)
	c := start(t, st, statesvc.Config{}).client
	ctx := ctxT(t)
	saveRoom(t, c, &pb.Room{Id: "r"})
	seat(t, c, "r", "u")
	for name, m := range map[string]*pb.ChatMessage{
		"empty text":  {RoomId: "r", UserId: "u", Text: ""},
		"long text":   {RoomId: "r", UserId: "u", Text: strings.Repeat("é", 513)},
		"no room":     {UserId: "u", Text: "hi"},
		"bad room id": {RoomId: "r:members", UserId: "u", Text: "hi"},
		"no user":     {RoomId: "r", Text: "hi"},
		"bad color":   {RoomId: "r", UserId: "u", Text: "hi", Color: "red"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.SaveChatMessage(ctx, &pb.SaveChatMessageRequest{Message: m})
			requireRefused(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
		})
	}
	t.Run("512 characters pass", func(t *testing.T) {
		_, err := c.SaveChatMessage(ctx, &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{
			RoomId: "r", UserId: "u", Text: strings.Repeat("é", 512), SentAt: timestamppb.Now(),
		}})
		require.NoError(t, err)
	})
	t.Run("system message without user", func(t *testing.T) {
		_, err := c.SaveChatMessage(ctx, &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{RoomId: "r", System: true, Text: "welcome"}})
		require.NoError(t, err)
	})
}

// TestArchiveIsIdempotentByMessageID: a message saved again (a retry) is
// archived once, and a retry after a delete does not bring it back.
func TestArchiveIsIdempotentByMessageID(t *testing.T) {
	st := newStores(t)
	inst := start(t, st, statesvc.Config{})
	ctx := ctxT(t)
	saveRoom(t, inst.client, &pb.Room{Id: "r"})
	seat(t, inst.client, "r", "alice")
	for range 3 {
		_, err := inst.client.SaveChatMessage(ctx, chat("r", "twice", "hello"))
		require.NoError(t, err)
	}
	_, err := inst.client.SaveChatMessage(ctx, chat("r", "gone", "oops"))
	require.NoError(t, err)
	_, err = inst.client.DeleteChatMessage(ctx, &pb.DeleteChatMessageRequest{RoomId: "r", MessageId: "gone"})
	require.NoError(t, err)
	_, err = inst.client.SaveChatMessage(ctx, chat("r", "gone", "oops")) // a late retry
	require.NoError(t, err)
	h, err := inst.client.ChatHistory(ctx, &pb.ChatHistoryRequest{RoomId: "r"})
	require.NoError(t, err)
	require.Equal(t, []string{"hello"}, texts(h.GetMessages()), "a retried post changes nothing")

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, inst.svc.Close(cctx))
	n, err := st.db.Collection("chat_messages").CountDocuments(ctx, bson.D{{Key: "_id", Value: "twice"}})
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	var gone struct {
		Deleted bool `bson:"deleted"`
	}
	require.NoError(t, st.db.Collection("chat_messages").FindOne(ctx, bson.D{{Key: "_id", Value: "gone"}}).Decode(&gone))
	require.True(t, gone.Deleted, "the retry after the delete must not undo it")
}
