package songs

import (
	"context"
	"fmt"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/analytics/internal/events"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
)

// SongAttribute is the event attribute naming the song of a SONG_PLAYED
// or SONG_COMPLETED event, read when its song_id field is empty.
const SongAttribute = "song_id"

// Messages the SheetMusicStatsTracker answers besides events.Apply and
// events.Sweep.
type (
	// Create adds Song (id set, validated) to the catalogue; the answer is
	// the *pb.Song, or ErrExists.
	Create struct {
		Song *pb.Song
	}
	// RecordPlay applies Events (a SONG_PLAYED event, and a SONG_COMPLETED
	// one for a completion, all of one song) at once; the answer is the
	// *pb.Song with its stats, or ErrNotFound. The same events arriving
	// later through the stream are not counted again.
	RecordPlay struct {
		Events []*pb.Event
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
	// Ledger applies song events (Plan) once per event id.
	Ledger    *ledger.Ledger
	OpTimeout time.Duration
	Now       func() time.Time
}

// NewTracker returns the factory of the SheetMusicStatsTracker actor: the
// one writer of the song stats (the embedded FerretDB loses concurrent
// updates of one document).
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
	case events.Sweep:
		err = events.SweepLedger(ctx, t.cfg.Ledger)
	case Create:
		if err = t.cfg.Catalogue.Insert(ctx, m.Song, t.cfg.Now()); err == nil {
			t.known[m.Song.GetId()] = true
			v, err = t.song(ctx, m.Song.GetId())
		}
	case RecordPlay:
		v, err = t.recordPlay(ctx, m.Events)
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

// applyEvents applies the song events whose song exists; events of
// unknown songs are ignored, not retried.
func (t *tracker) applyEvents(ctx context.Context, evs []*pb.Event) error {
	var songEvents []*pb.Event
	var unknown []string
	for _, ev := range evs {
		if !IsSongEvent(ev) {
			continue
		}
		if !t.known[SongID(ev)] {
			unknown = append(unknown, SongID(ev))
		}
		songEvents = append(songEvents, ev)
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
	kept := songEvents[:0]
	for _, ev := range songEvents {
		if t.known[SongID(ev)] {
			kept = append(kept, ev)
		}
	}
	_, err := t.cfg.Ledger.Apply(ctx, kept)
	return err
}

func (t *tracker) recordPlay(ctx context.Context, evs []*pb.Event) (*pb.Song, error) {
	if len(evs) == 0 {
		return nil, fmt.Errorf("record play: no event")
	}
	s, err := t.song(ctx, SongID(evs[0]))
	if err != nil {
		return nil, err
	}
	if _, err := t.cfg.Ledger.Apply(ctx, evs); err != nil {
		return nil, err
	}
	return s, t.cfg.Stats.Fill(ctx, s)
}

func (t *tracker) favorite(ctx context.Context, m Favorite) (*pb.Song, error) {
	s, err := t.song(ctx, m.SongID)
	if err != nil {
		return nil, err
	}
	if err := t.cfg.Stats.SetFavorite(ctx, m.SongID, m.UserID, m.Favorite, t.cfg.Now()); err != nil {
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
