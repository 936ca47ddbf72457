package songs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store"
)

// Collection is the MongoDB collection of the catalogue.
const Collection = "songs"

type songDoc struct {
	ID         string    `bson:"_id"`
	Title      string    `bson:"title"`
	Author     string    `bson:"author"`
	Tags       []string  `bson:"tags"`
	NoteCount  int64     `bson:"note_count"`
	DurationMS int64     `bson:"duration_ms"`
	CreatedAt  time.Time `bson:"created_at"`
}

func (d songDoc) proto() *pb.Song {
	return &pb.Song{
		Id: d.ID, Title: d.Title, Author: d.Author, Tags: d.Tags,
		NoteCount: d.NoteCount, DurationMs: d.DurationMS,
		Difficulty: Difficulty(d.NoteCount, d.DurationMS),
	}
}

// Difficulty is the note density of a performance, notes per second,
// rounded to hundredths; zero when the duration is unknown.
func Difficulty(notes, durationMS int64) float64 {
	if durationMS <= 0 || notes <= 0 {
		return 0
	}
	perSec := float64(notes) * 1000 / float64(durationMS)
	return float64(int64(perSec*100+0.5)) / 100
}

// Catalogue is the song catalogue in MongoDB. It is safe for concurrent
// use.
type Catalogue struct{ coll *mongo.Collection }

// NewCatalogue returns the catalogue in db.
func NewCatalogue(db *mongo.Database) *Catalogue { return &Catalogue{coll: db.Collection(Collection)} }

// EnsureIndexes creates the index ListSongs filters on.
func (c *Catalogue) EnsureIndexes(ctx context.Context) error {
	err := store.EnsureIndexes(ctx, c.coll, mongo.IndexModel{Keys: bson.D{{Key: "tags", Value: 1}}})
	if err != nil {
		return fmt.Errorf("create songs index: %w", err)
	}
	return nil
}

// Seed inserts songs when the catalogue is empty. Two replicas seeding at
// once insert each song once (by id).
func (c *Catalogue) Seed(ctx context.Context, songs []*pb.Song, now time.Time) error {
	n, err := c.coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("count songs: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, s := range songs {
		if err := c.Insert(ctx, s, now); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	return nil
}

// Insert adds s (with its id set) to the catalogue.
func (c *Catalogue) Insert(ctx context.Context, s *pb.Song, now time.Time) error {
	d := songDoc{
		ID: s.GetId(), Title: s.GetTitle(), Author: s.GetAuthor(), Tags: s.GetTags(),
		NoteCount: s.GetNoteCount(), DurationMS: s.GetDurationMs(), CreatedAt: now.UTC(),
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	_, err := c.coll.InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("insert song %s: %w", d.ID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert song %s: %w", d.ID, err)
	}
	return nil
}

// Get returns one song without its stats.
func (c *Catalogue) Get(ctx context.Context, id string) (*pb.Song, error) {
	var d songDoc
	err := c.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("song %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read song %s: %w", id, err)
	}
	return d.proto(), nil
}

// List returns up to n songs with tag (any when empty) whose ids sort after
// after, in id order, and whether more follow.
func (c *Catalogue) List(ctx context.Context, tag, after string, n int) ([]*pb.Song, bool, error) {
	filter := bson.D{}
	if after != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	if tag != "" {
		filter = append(filter, bson.E{Key: "tags", Value: tag})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(n + 1))
	out, err := c.find(ctx, filter, opts)
	if err != nil {
		return nil, false, fmt.Errorf("list songs: %w", err)
	}
	if len(out) > n {
		return out[:n], true, nil
	}
	return out, false, nil
}

// catalogueMax bounds All: the catalogue is small by design.
const catalogueMax = 10000

// All returns the whole catalogue in id order.
func (c *Catalogue) All(ctx context.Context) ([]*pb.Song, error) {
	out, err := c.find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(catalogueMax))
	if err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	return out, nil
}

// ByIDs returns the songs with ids that exist, in the order of ids.
func (c *Catalogue) ByIDs(ctx context.Context, ids []string) ([]*pb.Song, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := c.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find())
	if err != nil {
		return nil, fmt.Errorf("read songs: %w", err)
	}
	byID := make(map[string]*pb.Song, len(found))
	for _, s := range found {
		byID[s.GetId()] = s
	}
	out := make([]*pb.Song, 0, len(ids))
	for _, id := range ids {
		if s, ok := byID[id]; ok {
			out = append(out, s)
		}
	}
	return out, nil
}

func (c *Catalogue) find(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*pb.Song, error) {
	cur, err := c.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []songDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]*pb.Song, len(docs))
	for i, d := range docs {
		out[i] = d.proto()
	}
	return out, nil
}
