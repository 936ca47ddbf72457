package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// What must outlast Redis besides chat and rooms: bans, friendships, the
// server-wide settings and guests. Redis holds the live copy; these are
// read back when Redis has lost it (see engine), and written by the Writer
// as they change.

// banDoc is one room ban; Until is the zero time for a ban without end.
type banDoc struct {
	ID     string    `bson:"_id"` // room/user
	RoomID string    `bson:"room_id"`
	UserID string    `bson:"user_id"`
	Until  time.Time `bson:"until"`
}

func banID(roomID, userID string) string { return roomID + "/" + userID }

// Bans returns the room's bans that have not ended at now (user id -> end;
// zero for none).
func (a *Archive) Bans(ctx context.Context, roomID string, now time.Time) (map[string]time.Time, error) {
	cur, err := a.bans.Find(ctx, bson.D{{Key: "room_id", Value: roomID}})
	if err != nil {
		return nil, fmt.Errorf("find bans of %q: %w", roomID, err)
	}
	var docs []banDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read bans of %q: %w", roomID, err)
	}
	out := make(map[string]time.Time, len(docs))
	for _, d := range docs {
		if d.Until.IsZero() || d.Until.After(now) {
			out[d.UserID] = d.Until
		}
	}
	return out, nil
}

// friendDoc is one side of a friendship: the status seen from UserID.
type friendDoc struct {
	ID      string `bson:"_id"` // user/other
	UserID  string `bson:"user_id"`
	OtherID string `bson:"other_id"`
	Status  int32  `bson:"status"`
}

// Friends returns userID's relations.
func (a *Archive) Friends(ctx context.Context, userID string) ([]*pb.FriendEntry, error) {
	cur, err := a.friends.Find(ctx, bson.D{{Key: "user_id", Value: userID}})
	if err != nil {
		return nil, fmt.Errorf("find friends of %q: %w", userID, err)
	}
	var docs []friendDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read friends of %q: %w", userID, err)
	}
	out := make([]*pb.FriendEntry, len(docs))
	for i, d := range docs {
		out[i] = &pb.FriendEntry{UserId: d.OtherID, Status: pb.FriendStatus(d.Status)}
	}
	return out, nil
}

// configID is the one document of the server-wide settings.
const configID = "server"

type configDoc struct {
	ID          string `bson:"_id"`
	Maintenance bool   `bson:"maintenance"`
	Motd        string `bson:"motd"`
}

// Config returns the archived server-wide settings (all off when never
// set).
func (a *Archive) Config(ctx context.Context) (*pb.ServerConfig, error) {
	var d configDoc
	err := a.config.FindOne(ctx, bson.D{{Key: "_id", Value: configID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &pb.ServerConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find server config: %w", err)
	}
	return &pb.ServerConfig{Maintenance: d.Maintenance, Motd: d.Motd}, nil
}

type guestDoc struct {
	ID   string `bson:"_id"`
	User []byte `bson:"pb"`
}

// Guest returns the archived guest id, nil when there is none. Guests live
// only in the state service, so this copy is what lets a guest's token
// reconnect as the same guest after Redis lost them.
func (a *Archive) Guest(ctx context.Context, id string) (*pb.User, error) {
	var d guestDoc
	err := a.guests.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find guest %q: %w", id, err)
	}
	u := new(pb.User)
	if err := proto.Unmarshal(d.User, u); err != nil {
		return nil, fmt.Errorf("decode guest %q: %w", id, err)
	}
	return u, nil
}
