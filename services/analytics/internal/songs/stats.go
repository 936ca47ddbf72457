package songs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/internal/keys"
)

// playScript counts one play unless the event id was seen, and sets the
// song's score in the top songs to its plays (on every delivery, so a
// crash between the two cannot leave them apart).
//
// KEYS: seen mark, song hash, top songs. ARGV: mark TTL ms, song id.
var playScript = redis.NewScript(`
local v
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  v = redis.call('HINCRBY', KEYS[2], 'plays', 1)
else
  v = tonumber(redis.call('HGET', KEYS[2], 'plays') or '0')
end
redis.call('ZADD', KEYS[3], v, ARGV[2])
return v
`)

// favoriteScript adds (ARGV[2] = 1) or removes user ARGV[1] in the song's
// set of fans (KEYS[2]) and keeps the favorites count (KEYS[1]) equal to its
// size: a user counts once however often they press the button.
var favoriteScript = redis.NewScript(`
local changed
if ARGV[2] == '1' then
  changed = redis.call('SADD', KEYS[2], ARGV[1])
else
  changed = redis.call('SREM', KEYS[2], ARGV[1])
end
redis.call('HSET', KEYS[1], 'favorites', redis.call('SCARD', KEYS[2]))
return changed
`)

// Stats keeps plays and favorites per song in Redis. It is safe for
// concurrent use; writes should come from the one SheetMusicStatsTracker.
type Stats struct {
	client  redis.UniversalClient
	keys    keys.Keys
	seenTTL time.Duration
}

// NewStats returns the stats under k; seen marks live for seenTTL.
func NewStats(client redis.UniversalClient, k keys.Keys, seenTTL time.Duration) *Stats {
	return &Stats{client: client, keys: k, seenTTL: seenTTL}
}

// Play is one play of SongID, identified by EventID.
type Play struct{ EventID, SongID string }

// AddPlays counts plays, each once per event id, in one round trip.
func (s *Stats) AddPlays(ctx context.Context, plays []Play) error {
	if len(plays) == 0 {
		return nil
	}
	ttl := strconv.FormatInt(s.seenTTL.Milliseconds(), 10)
	pipe := s.client.Pipeline()
	for _, p := range plays {
		playScript.Eval(ctx, pipe, []string{s.keys.Seen("songs", p.EventID), s.keys.Song(p.SongID), s.keys.TopSongs()}, ttl, p.SongID)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("count song plays: %w", err)
	}
	return nil
}

// SetFavorite makes songID a favorite of userID, or not.
func (s *Stats) SetFavorite(ctx context.Context, songID, userID string, favorite bool) error {
	on := "0"
	if favorite {
		on = "1"
	}
	if err := favoriteScript.Run(ctx, s.client, []string{s.keys.Song(songID), s.keys.SongFans(songID)}, userID, on).Err(); err != nil {
		return fmt.Errorf("favorite song %s: %w", songID, err)
	}
	return nil
}

// Fill sets the plays and favorites of songs.
func (s *Stats) Fill(ctx context.Context, songs ...*pb.Song) error {
	if len(songs) == 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	cmds := make([]*redis.SliceCmd, len(songs))
	for i, song := range songs {
		cmds[i] = pipe.HMGet(ctx, s.keys.Song(song.GetId()), "plays", "favorites")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("read song stats: %w", err)
	}
	for i, song := range songs {
		v := cmds[i].Val()
		song.Plays, song.Favorites = toInt(v[0]), toInt(v[1])
	}
	return nil
}

// Top returns the ids of the n most played songs, most played first.
func (s *Stats) Top(ctx context.Context, n int) ([]string, error) {
	ids, err := s.client.ZRevRange(ctx, s.keys.TopSongs(), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("read top songs: %w", err)
	}
	return ids, nil
}

func toInt(v any) int64 {
	str, _ := v.(string)
	n, _ := strconv.ParseInt(str, 10, 64)
	return n
}
