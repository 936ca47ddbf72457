package ledger

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.uber.org/goleak"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(storetest.Wrap(m)) }

// countPlan counts notes per user and keeps each user's largest batch.
func countPlan(evs []*pb.Event, at time.Time) []Op {
	var ops []Op
	for _, ev := range evs {
		ops = append(ops, Op{Coll: "totals", ID: ev.GetUserId(),
			Inc:    bson.M{"notes": ev.GetCount(), "events": int64(1)},
			Max:    bson.M{"largest": ev.GetCount()},
			Set:    bson.M{"day": at.Format(time.DateOnly)},
			Insert: bson.M{"user": ev.GetUserId()}})
	}
	return ops
}

type totals struct {
	Notes   int64    `bson:"notes"`
	Events  int64    `bson:"events"`
	Largest int64    `bson:"largest"`
	User    string   `bson:"user"`
	J       []string `bson:"_j"`
}

func read(t *testing.T, db *mongo.Database, user string) totals {
	t.Helper()
	var out totals
	require.NoError(t, db.Collection("totals").FindOne(context.Background(), bson.D{{Key: "_id", Value: user}}).Decode(&out))
	return out
}

func notes(id, user string, n int64) *pb.Event {
	return &pb.Event{Id: id, Type: pb.EventType_EVENT_TYPE_NOTES, UserId: user, Count: n}
}

func newLedger(db *mongo.Database, after After) *Ledger {
	return New(Config{DB: db, Tracker: "test", Plan: countPlan, After: after, StaleAfter: time.Minute, SeenTTL: time.Hour})
}

func TestApplyCountsEachEventOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.Mongo(t)
	l := newLedger(db, nil)
	require.NoError(t, l.EnsureIndexes(ctx))

	n, err := l.Apply(ctx, []*pb.Event{notes("e1", "ann", 3), notes("e2", "ann", 4), notes("e3", "bob", 1)})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = l.Apply(ctx, []*pb.Event{notes("e2", "ann", 4), notes("e4", "ann", 10)})
	require.NoError(t, err)
	require.Equal(t, 1, n, "e2 was applied before")

	a := read(t, db, "ann")
	require.Len(t, a.J, 2, "each batch's journal is listed until the cleanup")
	require.Equal(t, 2, l.uncleanCount(), "ann and bob wait for the cleanup")
	require.NoError(t, l.Cleanup(ctx))
	require.Zero(t, l.uncleanCount())
	a = read(t, db, "ann")
	require.Equal(t, totals{Notes: 17, Events: 3, Largest: 10, User: "ann", J: []string{}}, a, "journal ids are cleaned up")
	require.Empty(t, read(t, db, "bob").J)
	require.EqualValues(t, 1, read(t, db, "bob").Notes)
	left, err := db.Collection(JournalCollection).CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	require.Zero(t, left, "finished journals are deleted")

	// Another tracker counts the same ids on its own.
	other := New(Config{DB: db, Tracker: "other", Plan: countPlan, StaleAfter: time.Minute})
	n, err = other.Apply(ctx, []*pb.Event{notes("e1", "cid", 2)})
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// TestRecoverFinishesAnInterruptedBatch stops a batch at every step a
// process can die at, then recovers it: each event counts exactly once.
func TestRecoverFinishesAnInterruptedBatch(t *testing.T) {
	steps := []string{"journal written", "events claimed", "some documents updated", "all updated", "after failed"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Mongo(t)
			clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			var afterRuns int
			failAfter := step == "after failed"
			l := New(Config{DB: db, Tracker: "test", Plan: countPlan, StaleAfter: time.Minute, SeenTTL: time.Hour,
				Now: func() time.Time { return clock },
				After: func(context.Context, []*pb.Event, time.Time) error {
					afterRuns++
					if failAfter {
						return errors.New("after: boom")
					}
					return nil
				}})
			require.NoError(t, l.EnsureIndexes(ctx))
			evs := []*pb.Event{notes("e1", "ann", 3), notes("e2", "bob", 5), notes("e3", "ann", 1)}

			if step == "after failed" {
				_, err := l.Apply(ctx, evs)
				require.ErrorContains(t, err, "boom")
				failAfter = false
			} else {
				crash(t, l, step, evs, clock)
			}
			// A redelivery while the journal is fresh: events the journal
			// claimed are left to it; unclaimed ones (it died before
			// claiming) are applied by the redelivery instead.
			redelivered, err := l.Apply(ctx, evs)
			require.NoError(t, err)
			if step == "journal written" {
				require.Equal(t, 3, redelivered)
			} else {
				require.Zero(t, redelivered, "the events belong to the unfinished journal")
			}
			n, err := l.Recover(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "not stale yet")

			clock = clock.Add(2 * time.Minute)
			n, err = l.Recover(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, redelivered+n, "each event applied by exactly one of them")
			require.EqualValues(t, 4, read(t, db, "ann").Notes)
			require.EqualValues(t, 2, read(t, db, "ann").Events)
			require.EqualValues(t, 5, read(t, db, "bob").Notes)
			require.Positive(t, afterRuns, "after runs for the applied batch")
			require.Equal(t, "2026-01-02", dayOf(t, db, "ann"), "a recovered batch keeps its date")

			n, err = l.Recover(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "nothing left")
			n, err = l.Apply(ctx, evs)
			require.NoError(t, err)
			require.Zero(t, n)
			require.EqualValues(t, 4, read(t, db, "ann").Notes)
		})
	}
}

func dayOf(t *testing.T, db *mongo.Database, user string) string {
	var d struct {
		Day string `bson:"day"`
	}
	require.NoError(t, db.Collection("totals").FindOne(context.Background(), bson.D{{Key: "_id", Value: user}}).Decode(&d))
	return d.Day
}

// crash runs the steps of Apply up to step and stops as a dead process
// would.
func crash(t *testing.T, l *Ledger, step string, evs []*pb.Event, at time.Time) {
	ctx := context.Background()
	j := journalDoc{ID: "j-crashed", Tracker: l.cfg.Tracker, At: at, Created: at, Lease: at}
	for _, ev := range evs {
		b, err := protoMarshal(ev)
		require.NoError(t, err)
		j.Events = append(j.Events, b)
	}
	_, err := l.journals.InsertOne(ctx, j)
	require.NoError(t, err)
	if step == "journal written" {
		return
	}
	_, err = l.claim(ctx, j.ID, evs)
	require.NoError(t, err)
	if step == "events claimed" {
		return
	}
	ops := merge(countPlan(evs, at))
	if step == "some documents updated" {
		ops = ops[:1]
	}
	require.NoError(t, l.apply(ctx, j.ID, ops, false))
}

// TestReplicasCountOnce: two processes applying overlapping batches (a
// redelivery claimed by another replica) count each event once. The
// batches run one after the other: the embedded FerretDB loses concurrent
// updates of one document (pkg/store/README.md), so in one process the
// tracker actor serialises them; on MongoDB each update is atomic.
func TestReplicasCountOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.Mongo(t)
	a, b := newLedger(db, nil), newLedger(db, nil)
	require.NoError(t, a.EnsureIndexes(ctx))
	var evs []*pb.Event
	for i := range 60 {
		evs = append(evs, notes(fmt.Sprint("e", i), fmt.Sprint("u", i%3), 1))
	}
	total := 0
	for w := range 6 {
		l := a
		if w%2 == 1 {
			l = b
		}
		lo := (w * 10) % 60
		batch := append(append([]*pb.Event{}, evs[lo:min(lo+30, 60)]...), evs[:5]...)
		n, err := l.Apply(ctx, dedupe(batch))
		require.NoError(t, err)
		total += n
	}
	n, err := a.Apply(ctx, evs)
	require.NoError(t, err)
	total += n
	require.Equal(t, 60, total, "every event applied by exactly one call")
	for u := range 3 {
		require.EqualValues(t, 20, read(t, db, fmt.Sprint("u", u)).Notes)
	}
}

func dedupe(evs []*pb.Event) []*pb.Event {
	seen := map[string]bool{}
	var out []*pb.Event
	for _, ev := range evs {
		if !seen[ev.GetId()] {
			seen[ev.GetId()] = true
			out = append(out, ev)
		}
	}
	return out
}

func TestExpireForgetsOldSeenMarks(t *testing.T) {
	ctx := context.Background()
	db := storetest.Mongo(t)
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := New(Config{DB: db, Tracker: "test", Plan: countPlan, StaleAfter: time.Minute, SeenTTL: time.Hour, Now: func() time.Time { return clock }})
	_, err := l.Apply(ctx, []*pb.Event{notes("e1", "ann", 1)})
	require.NoError(t, err)
	require.NoError(t, l.Expire(ctx))
	n, _ := l.Apply(ctx, []*pb.Event{notes("e1", "ann", 1)})
	require.Zero(t, n, "kept within SeenTTL")
	clock = clock.Add(2 * time.Hour)
	require.NoError(t, l.Expire(ctx))
	n, _ = l.Apply(ctx, []*pb.Event{notes("e1", "ann", 1)})
	require.Equal(t, 1, n, "a redelivery later than SeenTTL counts again, as documented")
}
