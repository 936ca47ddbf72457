package songs

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
)

// MongoDB collections of the SheetMusicStatsTracker (the catalogue is
// Collection).
const (
	// StatsCollection: one document per song, {_id: song, plays,
	// completions, accuracy_sum}.
	StatsCollection = "analytics_songs"
	// PlayersCollection: one document per (song, player).
	PlayersCollection = "analytics_song_players"
	// FavoritesCollection: one document per (song, user) favorite.
	FavoritesCollection = "analytics_favorites"
)

type statsDoc struct {
	ID          string  `bson:"_id"`
	Plays       int64   `bson:"plays"`
	Completions int64   `bson:"completions"`
	AccuracySum float64 `bson:"accuracy_sum"`
}

type playerDoc struct {
	ID           string    `bson:"_id"`
	Song         string    `bson:"song"`
	User         string    `bson:"user"`
	Plays        int64     `bson:"plays"`
	Completions  int64     `bson:"completions"`
	AccuracySum  float64   `bson:"accuracy_sum"`
	BestAccuracy float64   `bson:"best_accuracy"`
	LastAccuracy float64   `bson:"last_accuracy"`
	LastPlayedAt time.Time `bson:"last_played_at"`
}

func (d playerDoc) average() float64 {
	if d.Completions == 0 {
		return 0
	}
	return d.AccuracySum / float64(d.Completions)
}

type favoriteDoc struct {
	ID   string    `bson:"_id"`
	Song string    `bson:"song"`
	User string    `bson:"user"`
	At   time.Time `bson:"at"`
}

func pairID(song, user string) string { return song + "|" + user }

// Stats keeps plays, completions, accuracy and favorites per song and per
// player in MongoDB. Reads are safe for concurrent use; writes come from
// the one SheetMusicStatsTracker (through its ledger).
type Stats struct {
	songs, players, favorites *mongo.Collection
}

// NewStats returns the stats in db.
func NewStats(db *mongo.Database) *Stats {
	return &Stats{songs: db.Collection(StatsCollection), players: db.Collection(PlayersCollection), favorites: db.Collection(FavoritesCollection)}
}

// EnsureIndexes creates the indexes top songs, players and favorites are
// read by.
func (s *Stats) EnsureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		c    *mongo.Collection
		keys bson.D
	}{
		{s.songs, bson.D{{Key: "plays", Value: -1}}},
		{s.players, bson.D{{Key: "user", Value: 1}}},
		{s.players, bson.D{{Key: "song", Value: 1}}},
		{s.favorites, bson.D{{Key: "user", Value: 1}}},
		{s.favorites, bson.D{{Key: "song", Value: 1}}},
	} {
		if err := store.EnsureIndexes(ctx, ix.c, mongo.IndexModel{Keys: ix.keys}); err != nil {
			return fmt.Errorf("song stats indexes: %w", err)
		}
	}
	return nil
}

// SongID is the song of a SONG_PLAYED or SONG_COMPLETED event: its song_id
// field, else its "song_id" attribute.
func SongID(ev *pb.Event) string {
	if id := ev.GetSongId(); id != "" {
		return id
	}
	return ev.GetAttributes()[SongAttribute]
}

// IsSongEvent reports whether ev is a play or a completion of a song.
func IsSongEvent(ev *pb.Event) bool {
	t := ev.GetType()
	return (t == pb.EventType_EVENT_TYPE_SONG_PLAYED || t == pb.EventType_EVENT_TYPE_SONG_COMPLETED) && SongID(ev) != ""
}

// Plan is the ledger plan: a play or a completion (with its accuracy) of
// the song, and of the song by the player when the event names one.
func Plan(evs []*pb.Event, at time.Time) []ledger.Op {
	var ops []ledger.Op
	for _, ev := range evs {
		if !IsSongEvent(ev) {
			continue
		}
		song, user := SongID(ev), ev.GetUserId()
		when := at
		if ev.GetAt() != nil {
			when = ev.GetAt().AsTime()
		}
		songOp := ledger.Op{Coll: StatsCollection, ID: song}
		playerOp := ledger.Op{Coll: PlayersCollection, ID: pairID(song, user), Insert: bson.M{"song": song, "user": user},
			Max: bson.M{"last_played_at": when.UTC()}}
		if ev.GetType() == pb.EventType_EVENT_TYPE_SONG_PLAYED {
			songOp.Inc = bson.M{"plays": int64(1)}
			playerOp.Inc = bson.M{"plays": int64(1)}
		} else {
			acc := min(max(ev.GetAccuracy(), 0), 1)
			songOp.Inc = bson.M{"completions": int64(1), "accuracy_sum": acc}
			playerOp.Inc = bson.M{"completions": int64(1), "accuracy_sum": acc}
			playerOp.Max["best_accuracy"] = acc
			playerOp.Set = bson.M{"last_accuracy": acc}
		}
		ops = append(ops, songOp)
		if user != "" {
			ops = append(ops, playerOp)
		}
	}
	return ops
}

// SetFavorite makes songID a favorite of userID, or not; a user counts
// once however often they press the button.
func (s *Stats) SetFavorite(ctx context.Context, songID, userID string, favorite bool, now time.Time) error {
	id := pairID(songID, userID)
	var err error
	if favorite {
		_, err = s.favorites.InsertOne(ctx, favoriteDoc{ID: id, Song: songID, User: userID, At: now.UTC()})
		if mongo.IsDuplicateKeyError(err) {
			err = nil
		}
	} else {
		_, err = s.favorites.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	}
	if err != nil {
		return fmt.Errorf("favorite song %s: %w", songID, err)
	}
	return nil
}

// Fill sets the plays, completions, accuracy and favorites of songs.
func (s *Stats) Fill(ctx context.Context, songs ...*pb.Song) error {
	if len(songs) == 0 {
		return nil
	}
	ids := make([]string, len(songs))
	for i, song := range songs {
		ids[i] = song.GetId()
	}
	var docs []statsDoc
	if err := findAll(ctx, s.songs, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &docs); err != nil {
		return fmt.Errorf("read song stats: %w", err)
	}
	byID := make(map[string]statsDoc, len(docs))
	for _, d := range docs {
		byID[d.ID] = d
	}
	favs, err := s.favoriteCounts(ctx, ids)
	if err != nil {
		return err
	}
	for _, song := range songs {
		d := byID[song.GetId()]
		song.Plays, song.Completions, song.Favorites = d.Plays, d.Completions, favs[song.GetId()]
		if d.Completions > 0 {
			song.AverageAccuracy = d.AccuracySum / float64(d.Completions)
		}
	}
	return nil
}

// favoriteCounts counts favorites per song with one $group (one
// accumulator: the embedded FerretDB computes only the first).
func (s *Stats) favoriteCounts(ctx context.Context, ids []string) (map[string]int64, error) {
	cur, err := s.favorites.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "song", Value: bson.D{{Key: "$in", Value: ids}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$song"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("count favorites: %w", err)
	}
	var rows []struct {
		ID string `bson:"_id"`
		N  int64  `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count favorites: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// Top returns the ids of the n most played songs, most played first.
func (s *Stats) Top(ctx context.Context, n int) ([]string, error) {
	cur, err := s.songs.Find(ctx, bson.D{{Key: "plays", Value: bson.D{{Key: "$gt", Value: 0}}}},
		options.Find().SetSort(bson.D{{Key: "plays", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(n)))
	if err != nil {
		return nil, fmt.Errorf("read top songs: %w", err)
	}
	var docs []statsDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read top songs: %w", err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

// Player returns a player's record per song (only songID when set), most
// recently played first.
func (s *Stats) Player(ctx context.Context, userID, songID string) ([]*pb.PlayerSongStats, error) {
	filter := bson.D{{Key: "user", Value: userID}}
	if songID != "" {
		filter = append(filter, bson.E{Key: "song", Value: songID})
	}
	var docs []playerDoc
	if err := findAll(ctx, s.players, filter, &docs); err != nil {
		return nil, fmt.Errorf("read songs of %s: %w", userID, err)
	}
	var favs []favoriteDoc
	if err := findAll(ctx, s.favorites, bson.D{{Key: "user", Value: userID}}, &favs); err != nil {
		return nil, fmt.Errorf("read favorites of %s: %w", userID, err)
	}
	liked := map[string]bool{}
	for _, f := range favs {
		liked[f.Song] = true
	}
	sortByRecent(docs)
	out := make([]*pb.PlayerSongStats, len(docs))
	for i, d := range docs {
		out[i] = &pb.PlayerSongStats{
			UserId: d.User, SongId: d.Song, Plays: d.Plays, Completions: d.Completions,
			AverageAccuracy: d.average(), BestAccuracy: d.BestAccuracy, LastAccuracy: d.LastAccuracy,
			LastPlayedAt: timestamppb.New(d.LastPlayedAt), Favorite: liked[d.Song],
		}
	}
	return out, nil
}

func findAll(ctx context.Context, c *mongo.Collection, filter bson.D, out any) error {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return err
	}
	if err := cur.All(ctx, out); err != nil {
		return err
	}
	return nil
}
