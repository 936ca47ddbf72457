package songs

import (
	"context"
	"fmt"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/analytics/internal/events"
)

// SongAttribute is the event attribute naming the song of a SONG_PLAYED
// event.
const SongAttribute = "song_id"

// Messages the SheetMusicStatsTracker answers besides events.Apply.
type (
	// Create adds Song (id set, validated) to the catalogue; the answer is
	// the *pb.Song, or ErrExists.
	Create struct {
		Song *pb.Song
	}
	// RecordPlay counts a play of Event (a SONG_PLAYED event with the song
	// attribute) at once; the answer is the *pb.Song with its stats, or
	// ErrNotFound.
	RecordPlay struct {
		Event *pb.Event
	}
	// Favorite adds (or with Favorite false removes) a favorite; the answer
	// is the *pb.Song with its stats, or ErrNotFound.
	Favorite struct {
		SongID, UserID string
		Favorite       bool
	}
)

// TrackerConfig configures the SheetMusicStatsTracker actor.
type TrackerConfig struct {
	Catalogue *Catalogue
	Stats     *Stats
	OpTimeout time.Duration
	Now       func() time.Time
}

// NewTracker returns the factory of the SheetMusicStatsTracker actor.
func NewTracker(cfg TrackerConfig) func() actor.Actor {
	return func() actor.Actor { return &tracker{cfg: cfg, known: map[string]bool{}} }
}

type tracker struct {
	cfg TrackerConfig
	// known caches song ids seen to exist: songs are never deleted, so it
	// only saves catalogue reads for plays of popular songs.
	known map[string]bool
}

func (t *tracker) Receive(c *actor.Context) {
	ctx, cancel := context.WithTimeout(c.Context(), t.cfg.OpTimeout)
	defer cancel()
	var (
		v   any
		err error
	)
	switch m := c.Message().(type) {
	case events.Apply:
		err = t.applyEvents(ctx, m.Events)
	case Create:
		if err = t.cfg.Catalogue.Insert(ctx, m.Song, t.cfg.Now()); err == nil {
			t.known[m.Song.GetId()] = true
			v, err = t.song(ctx, m.Song.GetId())
		}
	case RecordPlay:
		v, err = t.recordPlay(ctx, m.Event)
	case Favorite:
		v, err = t.favorite(ctx, m)
	default:
		return
	}
	if err != nil {
		c.Respond(err)
		return
	}
	c.Respond(v)
}

// applyEvents counts the plays of SONG_PLAYED events whose song exists;
// plays of unknown songs are ignored, not retried.
func (t *tracker) applyEvents(ctx context.Context, evs []*pb.Event) error {
	var plays []Play
	var unknown []string
	for _, ev := range evs {
		id := ev.GetAttributes()[SongAttribute]
		if ev.GetType() != pb.EventType_EVENT_TYPE_SONG_PLAYED || id == "" {
			continue
		}
		if !t.known[id] {
			unknown = append(unknown, id)
		}
		plays = append(plays, Play{EventID: ev.GetId(), SongID: id})
	}
	if len(unknown) > 0 {
		found, err := t.cfg.Catalogue.ByIDs(ctx, unknown)
		if err != nil {
			return err
		}
		for _, s := range found {
			t.known[s.GetId()] = true
		}
	}
	kept := plays[:0]
	for _, p := range plays {
		if t.known[p.SongID] {
			kept = append(kept, p)
		}
	}
	return t.cfg.Stats.AddPlays(ctx, kept)
}

func (t *tracker) recordPlay(ctx context.Context, ev *pb.Event) (*pb.Song, error) {
	id := ev.GetAttributes()[SongAttribute]
	s, err := t.song(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := t.cfg.Stats.AddPlays(ctx, []Play{{EventID: ev.GetId(), SongID: id}}); err != nil {
		return nil, err
	}
	return s, t.cfg.Stats.Fill(ctx, s)
}

func (t *tracker) favorite(ctx context.Context, m Favorite) (*pb.Song, error) {
	s, err := t.song(ctx, m.SongID)
	if err != nil {
		return nil, err
	}
	if err := t.cfg.Stats.SetFavorite(ctx, m.SongID, m.UserID, m.Favorite); err != nil {
		return nil, err
	}
	return s, t.cfg.Stats.Fill(ctx, s)
}

// song reads a song from the catalogue (it must exist), without stats.
func (t *tracker) song(ctx context.Context, id string) (*pb.Song, error) {
	s, err := t.cfg.Catalogue.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("song: %w", err)
	}
	t.known[id] = true
	return s, nil
}
