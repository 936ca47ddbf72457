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
	BansCollection     = "room_bans"
	SessionsCollection = "online_sessions"
	FriendsCollection  = "friendships"
	ConfigCollection   = "server_config"
	GuestsCollection   = "guests"
	TokensCollection   = "refresh_tokens"
	FamiliesCollection = "refresh_token_families"
)

// Archive reads and writes the MongoDB collections of the state service.
// It is safe for concurrent use.
type Archive struct {
	chat, rooms, bans, sessions, friends, config, guests, tokens, families *mongo.Collection
}

// New returns an Archive over db. Call EnsureIndexes once at start.
func New(db *mongo.Database) *Archive {
	return &Archive{
		chat:     db.Collection(ChatCollection),
		rooms:    db.Collection(RoomsCollection),
		bans:     db.Collection(BansCollection),
		sessions: db.Collection(SessionsCollection),
		friends:  db.Collection(FriendsCollection),
		config:   db.Collection(ConfigCollection),
		guests:   db.Collection(GuestsCollection),
		tokens:   db.Collection(TokensCollection),
		families: db.Collection(FamiliesCollection),
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
	for _, ix := range []struct {
		c    *mongo.Collection
		keys bson.D
	}{
		{a.bans, bson.D{{Key: "room_id", Value: 1}}},
		{a.friends, bson.D{{Key: "user_id", Value: 1}}},
		{a.tokens, bson.D{{Key: "family_id", Value: 1}}},
		{a.tokens, bson.D{{Key: "expires_at", Value: 1}}},
	} {
		if err := store.EnsureIndexes(ctx, ix.c, mongo.IndexModel{Keys: ix.keys}); err != nil {
			return fmt.Errorf("create %s index: %w", ix.c.Name(), err)
		}
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

// roomDoc is one room: the marshalled record (with its version) and its
// id. Every room is here, so a Redis that comes back empty gets its rooms
// back.
type roomDoc struct {
	ID        string    `bson:"_id"`
	Room      []byte    `bson:"pb"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// Room returns the archived room id, or nil when there is none.
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

// Rooms returns every archived room.
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
	UserID       string
	InstanceID   string
	ConnectionID string
	OnlineAt     time.Time
	OfflineAt    *time.Time // nil while online (or when its end was lost)
}

// A session is archived as two inserted documents, its start (id
// user/connection) and its end (the same id with offlineSuffix), so that
// no write ever changes a document of this growing collection.
type sessionDoc struct {
	ID           string     `bson:"_id"`
	UserID       string     `bson:"user_id"`
	InstanceID   string     `bson:"instance_id,omitempty"`
	ConnectionID string     `bson:"connection_id"`
	OnlineAt     *time.Time `bson:"online_at,omitempty"`
	OfflineAt    *time.Time `bson:"offline_at,omitempty"`
}

const offlineSuffix = "/offline"

func sessionID(userID, connID string) string { return userID + "/" + connID }

// Sessions returns a user's sessions, latest first (for tests and admin
// tools). A session whose start was lost is dated by its end.
func (a *Archive) Sessions(ctx context.Context, userID string) ([]Session, error) {
	cur, err := a.sessions.Find(ctx, bson.D{{Key: "user_id", Value: userID}})
	if err != nil {
		return nil, fmt.Errorf("find sessions of %q: %w", userID, err)
	}
	var docs []sessionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read sessions of %q: %w", userID, err)
	}
	byConn := map[string]*Session{}
	for _, d := range docs {
		s := byConn[d.ConnectionID]
		if s == nil {
			s = &Session{UserID: d.UserID, ConnectionID: d.ConnectionID}
			byConn[d.ConnectionID] = s
		}
		if d.OnlineAt != nil {
			s.OnlineAt, s.InstanceID = *d.OnlineAt, d.InstanceID
		}
		if d.OfflineAt != nil {
			s.OfflineAt = d.OfflineAt
			if s.OnlineAt.IsZero() {
				s.OnlineAt = *d.OfflineAt
			}
		}
	}
	out := make([]Session, 0, len(byConn))
	for _, s := range byConn {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y Session) int { return y.OnlineAt.Compare(x.OnlineAt) })
	return out, nil
}
