package analyticssvc_test

import (
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestWhoMayRecord: stats are readable by anyone, but only a signed-in user
// records events, only their own, and only staff add songs.
func TestWhoMayRecord(t *testing.T) {
	st := newStores(t)
	c := start(t, st, analyticssvc.Config{}).client
	anon := as(t, auth.Identity{})
	bob := as(t, auth.Identity{UserID: "bob", Roles: []pb.Role{pb.Role_MEMBER}})
	mod := as(t, auth.Identity{UserID: "mod", Roles: []pb.Role{pb.Role_MODERATOR}})
	notes := func(user string) *pb.TrackRequest {
		return &pb.TrackRequest{Event: &pb.Event{Type: pb.EventType_EVENT_TYPE_NOTES, UserId: user, Count: 5}}
	}
	song := &pb.CreateSongRequest{Song: &pb.Song{Title: "Etude", Author: "Anon", NoteCount: 100, DurationMs: 10000}}
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"anyone reads stats", func() error { _, err := c.GetUserStats(anon, &pb.UserStatsRequest{UserId: "bob"}); return err }, codes.OK},
		{"anyone lists songs", func() error { _, err := c.ListSongs(anon, &pb.ListSongsRequest{}); return err }, codes.OK},
		{"anonymous track", func() error { _, err := c.Track(anon, notes("bob")); return err }, codes.Unauthenticated},
		{"own event", func() error { _, err := c.Track(bob, notes("")); return err }, codes.OK},
		{"someone else's event", func() error { _, err := c.Track(bob, notes("alice")); return err }, codes.PermissionDenied},
		{"staff records for anyone", func() error { _, err := c.Track(mod, notes("alice")); return err }, codes.OK},
		{"member adds a song", func() error { _, err := c.CreateSong(bob, song); return err }, codes.PermissionDenied},
		{"staff adds a song", func() error { _, err := c.CreateSong(mod, song); return err }, codes.OK},
		{"anonymous favorite", func() error {
			_, err := c.FavoriteSong(anon, &pb.FavoriteSongRequest{SongId: "x", Favorite: true})
			return err
		}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, status.Code(tt.call()))
		})
	}
}
