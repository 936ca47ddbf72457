package songs

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Recommendation tuning. Only the order of scores matters.
const (
	// goodAccuracy is how well a song must be played to count toward the
	// player's level.
	goodAccuracy = 0.8
	// stretch aims recommendations a little above the player's level.
	stretch = 1.1
	// maxSimilar bounds the players compared with the user.
	maxSimilar = 50
	// likedWeight and completedWeight: a similar player's favorite counts
	// as three plays, a completion as one and a half.
	likedWeight     = 2.0
	completedWeight = 0.5
	// popularityWeight lets well-played songs fill in when no similar
	// player exists (a new user), and basePrior lets songs nobody played
	// yet fill in last, by nearness alone (a new system).
	popularityWeight = 0.1
	basePrior        = 0.01
)

// Recommend suggests up to limit songs for userID that they have not
// played: songs that players who share songs with the user played and
// liked, weighted by how near the song's difficulty is to the user's
// level, with the most played songs near that level as a fallback.
func (s *Stats) Recommend(ctx context.Context, cat *Catalogue, userID string, limit int) (*pb.RecommendSongsResponse, error) {
	all, err := cat.All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*pb.Song, len(all))
	for _, song := range all {
		byID[song.GetId()] = song
	}
	if err := s.Fill(ctx, all...); err != nil {
		return nil, err
	}

	var mine []playerDoc
	if err := findAll(ctx, s.players, bson.D{{Key: "user", Value: userID}}, &mine); err != nil {
		return nil, fmt.Errorf("read songs of %s: %w", userID, err)
	}
	played := map[string]bool{}
	for _, d := range mine {
		played[d.Song] = true
	}
	level := Level(mine, byID)

	similar, err := s.similar(ctx, userID, played)
	if err != nil {
		return nil, err
	}
	collab, likes, fans, err := s.collaborative(ctx, similar, played)
	if err != nil {
		return nil, err
	}

	target := level * stretch
	if level == 0 { // no history: start from the easiest songs
		target = easiest(all)
	}
	var out []*pb.Recommendation
	for _, song := range all {
		if played[song.GetId()] {
			continue
		}
		near := nearness(song.GetDifficulty(), target)
		score := near * (collab[song.GetId()] + popularityWeight*math.Log1p(float64(song.GetPlays())) + basePrior)
		out = append(out, &pb.Recommendation{
			Song: song, Score: math.Round(score*1000) / 1000, SimilarPlayers: int32(fans[song.GetId()]),
			Reason: reason(fans[song.GetId()], likes[song.GetId()], song.GetPlays(), song.GetDifficulty(), level),
		})
	}
	slices.SortFunc(out, func(a, b *pb.Recommendation) int {
		if c := cmp.Compare(b.GetScore(), a.GetScore()); c != 0 {
			return c
		}
		return strings.Compare(a.GetSong().GetId(), b.GetSong().GetId())
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return &pb.RecommendSongsResponse{Recommendations: out, Level: math.Round(level*100) / 100}, nil
}

// Level is a player's level in notes per second: the hardest song they
// completed with at least goodAccuracy, else the mean difficulty of what
// they played; zero without history.
func Level(mine []playerDoc, songs map[string]*pb.Song) float64 {
	var best, sum float64
	n := 0
	for _, d := range mine {
		song, ok := songs[d.Song]
		if !ok {
			continue
		}
		if d.Completions > 0 && d.average() >= goodAccuracy {
			best = max(best, song.GetDifficulty())
		}
		sum += song.GetDifficulty()
		n++
	}
	if best > 0 {
		return best
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// similar returns the players who played the user's songs, with the share
// of the user's songs they played (0-1], the most similar first.
func (s *Stats) similar(ctx context.Context, userID string, played map[string]bool) (map[string]float64, error) {
	if len(played) == 0 {
		return nil, nil
	}
	songs := make([]string, 0, len(played))
	for id := range played {
		songs = append(songs, id)
	}
	var docs []playerDoc
	if err := findAll(ctx, s.players, bson.D{{Key: "song", Value: bson.D{{Key: "$in", Value: songs}}}}, &docs); err != nil {
		return nil, fmt.Errorf("read players of %s's songs: %w", userID, err)
	}
	overlap := map[string]int{}
	for _, d := range docs {
		if d.User != userID && d.User != "" {
			overlap[d.User]++
		}
	}
	users := make([]string, 0, len(overlap))
	for u := range overlap {
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b string) int {
		if c := cmp.Compare(overlap[b], overlap[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if len(users) > maxSimilar {
		users = users[:maxSimilar]
	}
	out := make(map[string]float64, len(users))
	for _, u := range users {
		out[u] = float64(overlap[u]) / float64(len(played))
	}
	return out, nil
}

// collaborative scores the songs similar players played (not the user's):
// each player adds their similarity, more for a song they completed or
// liked. It also returns, per song, how many of them liked it and played
// it.
func (s *Stats) collaborative(ctx context.Context, similar map[string]float64, played map[string]bool) (map[string]float64, map[string]int, map[string]int, error) {
	scores, likes, fans := map[string]float64{}, map[string]int{}, map[string]int{}
	if len(similar) == 0 {
		return scores, likes, fans, nil
	}
	users := make([]string, 0, len(similar))
	for u := range similar {
		users = append(users, u)
	}
	var docs []playerDoc
	if err := findAll(ctx, s.players, bson.D{{Key: "user", Value: bson.D{{Key: "$in", Value: users}}}}, &docs); err != nil {
		return nil, nil, nil, fmt.Errorf("read similar players' songs: %w", err)
	}
	var favs []favoriteDoc
	if err := findAll(ctx, s.favorites, bson.D{{Key: "user", Value: bson.D{{Key: "$in", Value: users}}}}, &favs); err != nil {
		return nil, nil, nil, fmt.Errorf("read similar players' favorites: %w", err)
	}
	liked := map[string]bool{}
	for _, f := range favs {
		liked[pairID(f.Song, f.User)] = true
	}
	for _, d := range docs {
		if played[d.Song] {
			continue
		}
		w := 1.0
		if d.Completions > 0 {
			w += completedWeight
		}
		if liked[pairID(d.Song, d.User)] {
			w += likedWeight
			likes[d.Song]++
		}
		scores[d.Song] += similar[d.User] * w
		fans[d.Song]++
	}
	return scores, likes, fans, nil
}

// nearness is 1 at the target difficulty and falls off with the distance,
// relative to the target (a step of 1 note/s matters more for beginners).
func nearness(difficulty, target float64) float64 {
	spread := max(target*0.5, 1)
	return math.Exp(-math.Abs(difficulty-target) / spread)
}

func easiest(all []*pb.Song) float64 {
	best := math.Inf(1)
	for _, s := range all {
		if d := s.GetDifficulty(); d > 0 && d < best {
			best = d
		}
	}
	if math.IsInf(best, 1) {
		return 0
	}
	return best
}

func reason(fans, likes int, plays int64, difficulty, level float64) string {
	var parts []string
	switch {
	case likes > 0:
		parts = append(parts, fmt.Sprintf("liked by %d and played by %d similar players", likes, fans))
	case fans > 0:
		parts = append(parts, fmt.Sprintf("played by %d similar players", fans))
	case plays > 0:
		parts = append(parts, fmt.Sprintf("played %d times", plays))
	default:
		parts = append(parts, "new to everyone")
	}
	if level > 0 {
		parts = append(parts, fmt.Sprintf("%.1f notes/s for your level %.1f", difficulty, level))
	} else {
		parts = append(parts, fmt.Sprintf("%.1f notes/s, a good start", difficulty))
	}
	return strings.Join(parts, "; ")
}

// sortByRecent orders a player's songs most recently played first.
func sortByRecent(docs []playerDoc) {
	slices.SortFunc(docs, func(a, b playerDoc) int {
		if c := b.LastPlayedAt.Compare(a.LastPlayedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Song, b.Song)
	})
}
