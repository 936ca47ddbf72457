package server

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/analytics/internal/events"
	"github.com/pianorhythm/server/services/analytics/internal/songs"
	"github.com/pianorhythm/server/services/analytics/internal/userstats"
)

// Config is what the server needs; every field is required.
type Config struct {
	Redis redis.UniversalClient
	// Stream receives events from Track, as pkg/track writes them, capped
	// at StreamMaxLen entries (approximately).
	Stream       string
	StreamMaxLen int64
	Counts       *events.Counts
	Users        *userstats.Store
	Catalogue    *songs.Catalogue
	SongStats    *songs.Stats
	// Songs is the SheetMusicStatsTracker.
	Songs     *actor.Ref
	OpTimeout time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// Server implements AnalyticsService. It is safe for concurrent use.
type Server struct {
	pb.UnimplementedAnalyticsServiceServer
	cfg Config
}

var _ pb.AnalyticsServiceServer = (*Server)(nil)

// New returns the server.
func New(cfg Config) *Server { return &Server{cfg: cfg} }

func (s *Server) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.OpTimeout)
}

// Track writes the event to the stream, like pkg/track: it is applied
// asynchronously, once per id (a retry with the same id counts once).
//
// Callers are authenticated: a user tracks only their own events (an empty
// user_id is the caller's); staff and internal services track anyone's.
func (s *Server) Track(ctx context.Context, req *pb.TrackRequest) (*emptypb.Empty, error) {
	ev := req.GetEvent()
	if err := checkEvent(ev); err != nil {
		return nil, err
	}
	userID, err := actingFor(ctx, ev.GetUserId())
	if err != nil {
		return nil, err
	}
	ev.UserId = userID
	if err := s.requireSong(ctx, ev); err != nil {
		return nil, err
	}
	if ev.GetId() == "" {
		ev.Id = uuid.NewString()
	}
	if ev.GetAt() == nil {
		ev.At = timestamppb.New(s.cfg.Now())
	}
	if tr := telemetry.InjectMap(ctx); tr != nil && ev.GetTrace()["traceparent"] == "" {
		ev.Trace = tr // the caller's trace, as pkg/track records it
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.add(ctx, ev); err != nil {
		return nil, toStatus(err)
	}
	return &emptypb.Empty{}, nil
}

// requireSong refuses a song event whose song is not in the catalogue, so a
// caller cannot inflate songs_completed with made-up songs.
func (s *Server) requireSong(ctx context.Context, ev *pb.Event) error {
	t := ev.GetType()
	if t != pb.EventType_EVENT_TYPE_SONG_PLAYED && t != pb.EventType_EVENT_TYPE_SONG_COMPLETED {
		return nil
	}
	id := songs.SongID(ev)
	if err := checkSongID(id); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if _, err := s.cfg.Catalogue.Get(ctx, id); err != nil {
		return toStatus(err)
	}
	return nil
}

func (s *Server) add(ctx context.Context, ev *pb.Event) error {
	vals, err := events.Values(ev)
	if err != nil {
		return err
	}
	return s.cfg.Redis.XAdd(ctx, &redis.XAddArgs{
		Stream: s.cfg.Stream, MaxLen: s.cfg.StreamMaxLen, Approx: true, Values: vals,
	}).Err()
}

// EventCounts returns the events counted per type name ("notes", "chat").
func (s *Server) EventCounts(ctx context.Context, _ *pb.EventCountsRequest) (*pb.EventCountsResponse, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	m, err := s.cfg.Counts.All(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.EventCountsResponse{Counts: m}, nil
}

// GetUserStats returns a user's totals and achievements; zeros for a user
// with no recorded activity.
func (s *Server) GetUserStats(ctx context.Context, req *pb.UserStatsRequest) (*pb.UserStats, error) {
	if err := checkID("user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	st, err := s.cfg.Users.Stats(ctx, req.GetUserId())
	if err != nil {
		return nil, toStatus(err)
	}
	return st, nil
}

// Leaderboard returns the top users of a metric for the day, the week or
// all time, by the service clock.
func (s *Server) Leaderboard(ctx context.Context, req *pb.LeaderboardRequest) (*pb.LeaderboardResponse, error) {
	if !userstats.IsLeaderboard(req.GetMetric()) {
		return nil, invalid("metric must be one of " + strings.Join(userstats.Leaderboards, ", "))
	}
	period, ok := userstats.ParsePeriod(req.GetPeriod())
	if !ok {
		return nil, invalid("period must be day, week or all")
	}
	n, err := limit(req.GetLimit(), defaultLimit)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	resp, err := s.cfg.Users.Leaderboard(ctx, req.GetMetric(), period, s.cfg.Now(), n)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// ListSongs pages through the catalogue in id order, optionally by tag.
func (s *Server) ListSongs(ctx context.Context, req *pb.ListSongsRequest) (*pb.ListSongsResponse, error) {
	if req.GetTag() != "" {
		if err := checkTag(req.GetTag()); err != nil {
			return nil, err
		}
	}
	n, err := limit(req.GetPageSize(), defaultPage)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	list, more, err := s.cfg.Catalogue.List(ctx, req.GetTag(), after, n)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.cfg.SongStats.Fill(ctx, list...); err != nil {
		return nil, toStatus(err)
	}
	resp := &pb.ListSongsResponse{Songs: list}
	if more {
		resp.NextPageToken = encodeToken(list[len(list)-1].GetId())
	}
	return resp, nil
}

// GetSong returns one song with its stats.
func (s *Server) GetSong(ctx context.Context, req *pb.GetSongRequest) (*pb.Song, error) {
	if err := checkSongID(req.GetSongId()); err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	song, err := s.cfg.Catalogue.Get(ctx, req.GetSongId())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.cfg.SongStats.Fill(ctx, song); err != nil {
		return nil, toStatus(err)
	}
	return song, nil
}

// CreateSong adds a song to the catalogue (staff only); without an id it
// gets a UUID.
func (s *Server) CreateSong(ctx context.Context, req *pb.CreateSongRequest) (*pb.Song, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	if err := checkSong(req.GetSong()); err != nil {
		return nil, err
	}
	song := &pb.Song{
		Id: req.GetSong().GetId(), Title: req.GetSong().GetTitle(), Author: req.GetSong().GetAuthor(),
		Tags: req.GetSong().GetTags(), NoteCount: req.GetSong().GetNoteCount(), DurationMs: req.GetSong().GetDurationMs(),
	}
	if song.Id == "" {
		song.Id = uuid.NewString()
	}
	return s.askSong(ctx, songs.Create{Song: song})
}

// RecordSongPlay counts a play now (and, with completed, a completion
// with its accuracy) and also writes it to the stream as SONG_PLAYED (and
// SONG_COMPLETED) events with the same ids, so that they show in
// EventCounts and user stats while the song counts them once.
func (s *Server) RecordSongPlay(ctx context.Context, req *pb.RecordSongPlayRequest) (*pb.Song, error) {
	if err := checkSongID(req.GetSongId()); err != nil {
		return nil, err
	}
	if req.GetUserId() != "" {
		if err := checkID("user_id", req.GetUserId()); err != nil {
			return nil, err
		}
	}
	if err := checkAccuracy(req.GetAccuracy()); err != nil {
		return nil, err
	}
	if req.GetAccuracy() != 0 && !req.GetCompleted() {
		return nil, invalid("accuracy is for a completed play: set completed")
	}
	userID, err := actingFor(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	now := timestamppb.New(s.cfg.Now())
	id := uuid.NewString()
	evs := []*pb.Event{{
		Id: id, Type: pb.EventType_EVENT_TYPE_SONG_PLAYED, UserId: userID, At: now, SongId: req.GetSongId(),
		Attributes: map[string]string{songs.SongAttribute: req.GetSongId()},
	}}
	if req.GetCompleted() {
		evs = append(evs, &pb.Event{
			Id: id + ":completed", Type: pb.EventType_EVENT_TYPE_SONG_COMPLETED, UserId: userID, At: now,
			SongId: req.GetSongId(), Accuracy: req.GetAccuracy(),
		})
	}
	song, err := s.askSong(ctx, songs.RecordPlay{Events: evs})
	if err != nil {
		return nil, err
	}
	actx, cancel := s.ctx(ctx)
	defer cancel()
	for _, ev := range evs {
		if err := s.add(actx, ev); err != nil {
			// The play is counted; only its event count and the player's
			// totals are missing.
			s.cfg.Logger.Warn("song play not written to the event stream", "song", req.GetSongId(), "err", err)
		}
	}
	return song, nil
}

// FavoriteSong makes a song a favorite of the caller, or not; each user
// counts once.
func (s *Server) FavoriteSong(ctx context.Context, req *pb.FavoriteSongRequest) (*pb.Song, error) {
	id, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkSongID(req.GetSongId()); err != nil {
		return nil, err
	}
	return s.askSong(ctx, songs.Favorite{SongID: req.GetSongId(), UserID: id.UserID, Favorite: req.GetFavorite()})
}

// TopSongs returns the most played songs, most played first.
func (s *Server) TopSongs(ctx context.Context, req *pb.TopSongsRequest) (*pb.ListSongsResponse, error) {
	n, err := limit(req.GetLimit(), defaultLimit)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ids, err := s.cfg.SongStats.Top(ctx, n)
	if err != nil {
		return nil, toStatus(err)
	}
	list, err := s.cfg.Catalogue.ByIDs(ctx, ids)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.cfg.SongStats.Fill(ctx, list...); err != nil {
		return nil, toStatus(err)
	}
	return &pb.ListSongsResponse{Songs: list}, nil
}

// GetPlayerSongStats returns a player's plays, completions and accuracy
// per song, most recently played first.
func (s *Server) GetPlayerSongStats(ctx context.Context, req *pb.PlayerSongStatsRequest) (*pb.PlayerSongStatsResponse, error) {
	if err := checkID("user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	if req.GetSongId() != "" {
		if err := checkSongID(req.GetSongId()); err != nil {
			return nil, err
		}
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	list, err := s.cfg.SongStats.Player(ctx, req.GetUserId(), req.GetSongId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.PlayerSongStatsResponse{Stats: list}, nil
}

// RecommendSongs suggests songs the user has not played, near their level,
// that similar players played and liked.
func (s *Server) RecommendSongs(ctx context.Context, req *pb.RecommendSongsRequest) (*pb.RecommendSongsResponse, error) {
	if err := checkID("user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	n, err := limit(req.GetLimit(), defaultRecommendations)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	resp, err := s.cfg.SongStats.Recommend(ctx, s.cfg.Catalogue, req.GetUserId(), n)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

func (s *Server) askSong(ctx context.Context, msg any) (*pb.Song, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	song, err := actor.Ask[*pb.Song](ctx, s.cfg.Songs, msg)
	if err != nil {
		return nil, toStatus(err)
	}
	return song, nil
}
