package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store"
)

// Collection names.
const (
	ChatCollection     = "chat_messages"
	RoomsCollection    = "rooms"
	SessionsCollection = "online_sessions"
)

// Archive reads and writes the MongoDB collections of the state service.
type Archive struct {
	chat, rooms, sessions *mongo.Collection
}

// New returns an Archive over db. Call EnsureIndexes once at start.
func New(db *mongo.Database) *Archive {
	return &Archive{
		chat:     db.Collection(ChatCollection),
		rooms:    db.Collection(RoomsCollection),
		sessions: db.Collection(SessionsCollection),
	}
}

// EnsureIndexes creates the indexes the queries need (idempotent).
func (a *Archive) EnsureIndexes(ctx context.Context) error {
	if err := store.EnsureIndexes(ctx, a.chat, mongo.IndexModel{
		Keys: bson.D{{Key: "room_id", Value: 1}, {Key: "sent_at", Value: -1}},
	}); err != nil {
		return fmt.Errorf("create chat index: %w", err)
	}
	if err := store.EnsureIndexes(ctx, a.sessions, mongo.IndexModel{
		Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "online_at", Value: -1}},
	}); err != nil {
		return fmt.Errorf("create sessions index: %w", err)
	}
	return nil
}

// chatDoc is one archived chat message. Deleted and cleared messages stay
// in the archive (moderation history) but are never recovered into Redis.
type chatDoc struct {
	ID          string    `bson:"_id"`
	RoomID      string    `bson:"room_id"`
	UserID      string    `bson:"user_id"`
	DisplayName string    `bson:"display_name"`
	Color       string    `bson:"color"`
	Text        string    `bson:"text"`
	SentAt      time.Time `bson:"sent_at"`
	System      bool      `bson:"system"`
}

func toChatDoc(m *pb.ChatMessage) chatDoc {
	return chatDoc{
		ID: m.GetId(), RoomID: m.GetRoomId(), UserID: m.GetUserId(), DisplayName: m.GetDisplayName(),
		Color: m.GetColor(), Text: m.GetText(), SentAt: m.GetSentAt().AsTime(), System: m.GetSystem(),
	}
}

func (d chatDoc) message() *pb.ChatMessage {
	return &pb.ChatMessage{
		Id: d.ID, RoomId: d.RoomID, UserId: d.UserID, DisplayName: d.DisplayName,
		Color: d.Color, Text: d.Text, SentAt: timestamppb.New(d.SentAt), System: d.System,
	}
}

// RecentChat returns the last n live (not deleted or cleared) messages of a
// room sent at or after since, oldest first.
func (a *Archive) RecentChat(ctx context.Context, roomID string, since time.Time, n int) ([]*pb.ChatMessage, error) {
	filter := bson.D{
		{Key: "room_id", Value: roomID},
		{Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: "cleared", Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: "sent_at", Value: bson.D{{Key: "$gte", Value: since}}},
	}
	opts := options.Find().SetSort(bson.D{{Key: "sent_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(n))
	cur, err := a.chat.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find chat of %q: %w", roomID, err)
	}
	var docs []chatDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read chat of %q: %w", roomID, err)
	}
	out := make([]*pb.ChatMessage, len(docs))
	for i, d := range docs {
		out[i] = d.message()
	}
	slices.Reverse(out)
	return out, nil
}

// roomDoc is one persistent room: the marshalled record and its id.
type roomDoc struct {
	ID        string    `bson:"_id"`
	Room      []byte    `bson:"pb"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// SaveRoom upserts a persistent room (member_count is not kept).
func (a *Archive) SaveRoom(ctx context.Context, r *pb.Room, now time.Time) error {
	stored := proto.Clone(r).(*pb.Room)
	stored.MemberCount = 0
	b, err := proto.Marshal(stored)
	if err != nil {
		return fmt.Errorf("marshal room %q: %w", r.GetId(), err)
	}
	_, err = a.rooms.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.GetId()}},
		roomDoc{ID: r.GetId(), Room: b, UpdatedAt: now}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("archive room %q: %w", r.GetId(), err)
	}
	return nil
}

// DeleteRoom removes a persistent room; a missing one is not an error.
func (a *Archive) DeleteRoom(ctx context.Context, id string) error {
	if _, err := a.rooms.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("delete archived room %q: %w", id, err)
	}
	return nil
}

// Room returns the persistent room id, or nil when there is none.
func (a *Archive) Room(ctx context.Context, id string) (*pb.Room, error) {
	var d roomDoc
	err := a.rooms.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find archived room %q: %w", id, err)
	}
	return decodeRoom(d)
}

// Rooms returns every persistent room.
func (a *Archive) Rooms(ctx context.Context) ([]*pb.Room, error) {
	cur, err := a.rooms.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("find archived rooms: %w", err)
	}
	var docs []roomDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read archived rooms: %w", err)
	}
	out := make([]*pb.Room, 0, len(docs))
	for _, d := range docs {
		r, err := decodeRoom(d)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func decodeRoom(d roomDoc) (*pb.Room, error) {
	r := new(pb.Room)
	if err := proto.Unmarshal(d.Room, r); err != nil {
		return nil, fmt.Errorf("decode archived room %q: %w", d.ID, err)
	}
	return r, nil
}

// Session is one online session of a user, as archived.
type Session struct {
	ID           string     `bson:"_id"`
	UserID       string     `bson:"user_id"`
	InstanceID   string     `bson:"instance_id"`
	ConnectionID string     `bson:"connection_id"`
	OnlineAt     time.Time  `bson:"online_at"`
	OfflineAt    *time.Time `bson:"offline_at,omitempty"`
}

// Sessions returns a user's sessions, latest first (for tests and admin
// tools).
func (a *Archive) Sessions(ctx context.Context, userID string) ([]Session, error) {
	cur, err := a.sessions.Find(ctx, bson.D{{Key: "user_id", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "online_at", Value: -1}}))
	if err != nil {
		return nil, fmt.Errorf("find sessions of %q: %w", userID, err)
	}
	var out []Session
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read sessions of %q: %w", userID, err)
	}
	return out, nil
}
