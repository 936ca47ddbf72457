package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
)

// Apply asks a tracker actor to apply events idempotently (by event id). The
// actor responds nil once they are applied, or an error; on error the whole
// batch is delivered again later.
type Apply struct{ Events []*pb.Event }

// Sweep asks a tracker actor to finish batches a dead process left
// unfinished and to forget old seen marks (SweepLedger); it responds nil
// or the error.
type Sweep struct{}

// sweepTick is a Sweep told by the Reader, which logs failures instead
// of answering them.
type sweepTick struct{}

// SweepLedger is what a tracker does on Sweep with its ledger: finish
// what a dead process left, forget old seen marks, and clean finished
// journals' ids out of the counter documents.
func SweepLedger(ctx context.Context, l *ledger.Ledger) error {
	if _, err := l.Recover(ctx); err != nil {
		return err
	}
	return errors.Join(l.Expire(ctx), l.Cleanup(ctx))
}

// TypeName is the name of t in EventCounts: the enum name in lower case
// without its prefix ("notes", "room_joined").
func TypeName(t pb.EventType) string {
	return strings.ToLower(strings.TrimPrefix(t.String(), "EVENT_TYPE_"))
}

// Decode reads the event of a stream entry written by pkg/track (or by
// Track). An event without an id takes the entry's id, so that it is still
// applied once.
func Decode(m redis.XMessage) (*pb.Event, error) {
	raw, ok := m.Values[track.FieldEvent].(string)
	if !ok {
		return nil, errors.New("decode event: no event field")
	}
	ev := &pb.Event{}
	if err := proto.Unmarshal([]byte(raw), ev); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if ev.GetId() == "" {
		ev.Id = "stream-" + m.ID
	}
	return ev, nil
}

// Values are the fields of a stream entry carrying ev, as pkg/track writes
// them.
func Values(ev *pb.Event) ([]any, error) {
	b, err := proto.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return []any{track.FieldEvent, b, track.FieldID, ev.GetId()}, nil
}
