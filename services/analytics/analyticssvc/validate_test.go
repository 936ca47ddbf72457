package analyticssvc_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
)

func TestInvalidInputIsRejected(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{NoSeed: true}).client
	song := func(s *pb.Song) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.CreateSong(ctx, &pb.CreateSongRequest{Song: s})
			return err
		}
	}
	for name, call := range map[string]func(ctx context.Context) error{
		"track without event": func(ctx context.Context) error { _, err := c.Track(ctx, &pb.TrackRequest{}); return err },
		"track without type": func(ctx context.Context) error {
			_, err := c.Track(ctx, &pb.TrackRequest{Event: &pb.Event{UserId: "u"}})
			return err
		},
		"track unknown type": func(ctx context.Context) error {
			_, err := c.Track(ctx, &pb.TrackRequest{Event: &pb.Event{Type: 99}})
			return err
		},
		"track negative count": func(ctx context.Context) error {
			_, err := c.Track(ctx, &pb.TrackRequest{Event: &pb.Event{Type: pb.EventType_EVENT_TYPE_NOTES, Count: -1}})
			return err
		},
		"track long user id": func(ctx context.Context) error {
			_, err := c.Track(ctx, &pb.TrackRequest{Event: &pb.Event{Type: pb.EventType_EVENT_TYPE_NOTES, UserId: strings.Repeat("u", 129)}})
			return err
		},
		"stats without user": func(ctx context.Context) error {
			_, err := c.GetUserStats(ctx, &pb.UserStatsRequest{})
			return err
		},
		"leaderboard unknown metric": func(ctx context.Context) error {
			_, err := c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: "friends"})
			return err
		},
		"leaderboard limit too big": func(ctx context.Context) error {
			_, err := c.Leaderboard(ctx, &pb.LeaderboardRequest{Metric: "notes_played", Limit: 101})
			return err
		},
		"list bad page token": func(ctx context.Context) error {
			_, err := c.ListSongs(ctx, &pb.ListSongsRequest{PageToken: "%%%"})
			return err
		},
		"list negative page size": func(ctx context.Context) error {
			_, err := c.ListSongs(ctx, &pb.ListSongsRequest{PageSize: -1})
			return err
		},
		"list bad tag": func(ctx context.Context) error {
			_, err := c.ListSongs(ctx, &pb.ListSongsRequest{Tag: "Rag;time"})
			return err
		},
		"get song without id": func(ctx context.Context) error {
			_, err := c.GetSong(ctx, &pb.GetSongRequest{})
			return err
		},
		"get song bad id": func(ctx context.Context) error {
			_, err := c.GetSong(ctx, &pb.GetSongRequest{SongId: "../etc"})
			return err
		},
		"create without song":      song(nil),
		"create without title":     song(&pb.Song{Author: "x"}),
		"create long title":        song(&pb.Song{Title: strings.Repeat("t", 201)}),
		"create bad id":            song(&pb.Song{Id: "Has Spaces", Title: "t"}),
		"create notes no duration": song(&pb.Song{Title: "t", NoteCount: 10}),
		"create negative duration": song(&pb.Song{Title: "t", DurationMs: -1}),
		"create with plays":        song(&pb.Song{Title: "t", Plays: 5}),
		"create too many tags":     song(&pb.Song{Title: "t", Tags: strings.Split("a b c d e f g h i j k", " ")}),
		"create bad tag":           song(&pb.Song{Title: "t", Tags: []string{""}}),
		"play without song": func(ctx context.Context) error {
			_, err := c.RecordSongPlay(ctx, &pb.RecordSongPlayRequest{UserId: "u"})
			return err
		},
		"favorite bad id": func(ctx context.Context) error {
			_, err := c.FavoriteSong(ctx, &pb.FavoriteSongRequest{SongId: "UPPER"})
			return err
		},
		"top negative limit": func(ctx context.Context) error {
			_, err := c.TopSongs(ctx, &pb.TopSongsRequest{Limit: -1})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			requireRefused(t, call(ctxT(t)), codes.InvalidArgument, "INVALID_ARGUMENT")
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for name, cfg := range map[string]analyticssvc.Config{
		"negative batch":       {BatchSize: -1},
		"seen ttl below claim": {SeenTTL: 1000, ClaimIdle: 2000},
		"negative block":       {BlockTime: -1},
	} {
		t.Run(name, func(t *testing.T) {
			st := newStores(t)
			if _, err := analyticssvc.New(cfg, analyticssvc.Deps{Redis: st.rdb, Mongo: st.db}); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
	t.Run("missing deps", func(t *testing.T) {
		if _, err := analyticssvc.New(analyticssvc.Config{}, analyticssvc.Deps{}); err == nil {
			t.Fatal("New accepted missing stores")
		}
	})
}
