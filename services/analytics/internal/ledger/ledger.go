// Package ledger applies analytics events to counters in MongoDB once per
// event id, without transactions (FerretDB has none), so that aggregates
// survive any restart and nothing counts twice.
//
// A batch is applied in steps, each of which can be repeated:
//
//  1. A journal document records the batch's events, and the time the
//     batch is dated by.
//  2. A "seen" mark per event id (unique _id) claims each event for the
//     journal; an event already claimed by another journal is left out.
//  3. The tracker's Plan turns the claimed events into counter updates
//     (Op), each applied with a $push of the journal id; when a journal is
//     applied again (Recover), each update has the condition that the
//     document does not list the journal yet: one atomic step per
//     document, so a repeated update does nothing.
//  4. The tracker's After hook runs (it must be idempotent).
//  5. The journal is deleted. Its id is pulled from the documents later
//     (Cleanup), together with the other journals finished since, in one
//     update per document instead of one per document and batch.
//
// A crash anywhere leaves the journal behind; Recover finishes journals
// older than StaleAfter by running the same steps again. Journals are
// owned by one tracker (Config.Tracker) and seen marks are per tracker, so
// each tracker applies each event once whatever the others do.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store"
)

// Collections shared by every tracker's ledger.
const (
	JournalCollection = "analytics_journal"
	SeenCollection    = "analytics_seen"
)

// journalField lists, in each counter document, the journals applied to it
// and not yet cleaned up.
const journalField = "_j"

// Op is one update of one counter document. Ops of a batch with the same
// collection and id are merged ($inc summed, $max kept highest, $set last
// wins) before they are applied.
type Op struct {
	Coll string
	ID   string
	// Inc, Max and Set are the $inc, $max and $set of the update; Insert
	// is $setOnInsert (fields that never change, used by queries).
	Inc, Max, Set, Insert bson.M
}

// Plan returns the ops of evs (the events this journal owns), dated at. It
// must be deterministic: a recovered journal is planned again.
type Plan func(evs []*pb.Event, at time.Time) []Op

// After runs once the ops of evs are applied, before the journal is
// deleted; on a crash it runs again, so it must be idempotent.
type After func(ctx context.Context, evs []*pb.Event, at time.Time) error

// Config configures a Ledger.
type Config struct {
	DB *mongo.Database
	// Tracker names the ledger's owner ("users"); it prefixes seen marks.
	Tracker string
	Plan    Plan
	// After may be nil.
	After After
	// StaleAfter is how old a journal must be before Recover finishes it:
	// longer than any live batch can take (the caller's timeout per batch).
	StaleAfter time.Duration
	// SeenTTL is how long seen marks are kept (Expire deletes older ones);
	// an event redelivered later than that counts again.
	SeenTTL time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// Ledger applies events to counters for one tracker. It is safe for
// concurrent use, across processes too.
type Ledger struct {
	cfg      Config
	journals *mongo.Collection
	seen     *mongo.Collection

	expireMu  sync.Mutex
	expiredAt time.Time // the last Expire that deleted

	cleanMu sync.Mutex
	// unclean lists, per document, the finished journals it still lists
	// (Cleanup removes them).
	unclean map[docKey][]string
}

type docKey struct{ coll, id string }

// maxUnclean is how many documents may wait for Cleanup before a batch
// cleans some up itself (when sweeps fail or are far apart); cleanupChunk
// is the most documents one Cleanup updates, so that it fits in a sweep's
// time however far behind it is.
const (
	maxUnclean   = 20000
	cleanupChunk = 5000
)

// New returns a ledger; call EnsureIndexes once at start.
func New(cfg Config) *Ledger {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Ledger{cfg: cfg, journals: cfg.DB.Collection(JournalCollection), seen: cfg.DB.Collection(SeenCollection),
		unclean: map[docKey][]string{}}
}

// EnsureIndexes creates the indexes Recover and Expire query by.
func (l *Ledger) EnsureIndexes(ctx context.Context) error {
	if err := store.EnsureIndexes(ctx, l.journals, mongo.IndexModel{Keys: bson.D{{Key: "t", Value: 1}, {Key: "created", Value: 1}}}); err != nil {
		return fmt.Errorf("journal indexes: %w", err)
	}
	if err := store.EnsureIndexes(ctx, l.seen, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}}); err != nil {
		return fmt.Errorf("seen indexes: %w", err)
	}
	return nil
}

type journalDoc struct {
	ID      string    `bson:"_id"`
	Tracker string    `bson:"t"`
	At      time.Time `bson:"at"`
	Created time.Time `bson:"created"`
	// Lease is when a recovering process's claim on the journal ends.
	Lease  time.Time `bson:"lease"`
	Events [][]byte  `bson:"events"`
}

type seenDoc struct {
	ID      string    `bson:"_id"`
	Journal string    `bson:"j"`
	At      time.Time `bson:"at"`
}

// Apply applies evs (distinct ids), each at most once per id for this
// tracker, and returns how many were applied by this call (the others were
// applied before, or are being applied by an unfinished journal that
// Recover will finish).
func (l *Ledger) Apply(ctx context.Context, evs []*pb.Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	now := l.cfg.Now()
	j := journalDoc{ID: uuid.NewString(), Tracker: l.cfg.Tracker, At: now.UTC(), Created: now.UTC(), Lease: now.UTC()}
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			return 0, fmt.Errorf("encode event %s: %w", ev.GetId(), err)
		}
		j.Events = append(j.Events, b)
	}
	if _, err := l.journals.InsertOne(ctx, j); err != nil {
		return 0, fmt.Errorf("write %s journal: %w", l.cfg.Tracker, err)
	}
	return l.finish(ctx, j.ID, j.At, evs, false)
}

func (l *Ledger) seenID(eventID string) string { return l.cfg.Tracker + ":" + eventID }

// finish runs steps 2 to 5 for journal jid holding evs. again says that
// jid may have been applied to some documents already (Recover): only then
// is each update guarded by the journal's absence from the document. A
// first attempt needs no guard, since no document can list a journal id
// just made, and an unguarded update by _id alone is what FerretDB's
// SQLite backend finds from an index (any other filter reads the whole
// collection, see pkg/store/README.md).
func (l *Ledger) finish(ctx context.Context, jid string, at time.Time, evs []*pb.Event, again bool) (int, error) {
	owned, err := l.claim(ctx, jid, evs)
	if err != nil {
		return 0, err
	}
	ops := merge(l.cfg.Plan(owned, at))
	if err := l.apply(ctx, jid, ops, again); err != nil {
		return 0, err
	}
	if l.cfg.After != nil && len(owned) > 0 {
		if err := l.cfg.After(ctx, owned, at); err != nil {
			return 0, fmt.Errorf("after %s batch: %w", l.cfg.Tracker, err)
		}
	}
	if _, err := l.journals.DeleteOne(ctx, bson.D{{Key: "_id", Value: jid}}); err != nil {
		return 0, fmt.Errorf("close %s journal: %w", l.cfg.Tracker, err)
	}
	if l.finished(jid, ops) > maxUnclean {
		if err := l.Cleanup(ctx); err != nil {
			l.cfg.Logger.Debug("journal cleanup left for later", "tracker", l.cfg.Tracker, "err", err)
		}
	}
	return len(owned), nil
}

// finished records that journal jid, applied by ops, is deleted: its id
// may now be pulled from the documents. It returns how many documents
// wait for Cleanup. A journal id left in a document
// (a crash before Cleanup) is never applied again, since the journal is
// gone, so it is harmless.
func (l *Ledger) finished(jid string, ops []Op) (unclean int) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	for _, op := range ops {
		k := docKey{op.Coll, op.ID}
		l.unclean[k] = append(l.unclean[k], jid)
	}
	return len(l.unclean)
}

// uncleanCount returns how many documents list finished journals not
// yet pulled by Cleanup.
func (l *Ledger) uncleanCount() int {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	return len(l.unclean)
}

// Cleanup pulls the ids of finished journals from (at most cleanupChunk
// of) the documents that list them, one update per document. What fails,
// or is past the chunk, is kept for the next Cleanup.
func (l *Ledger) Cleanup(ctx context.Context) error {
	l.cleanMu.Lock()
	todo := make(map[docKey][]string, min(len(l.unclean), cleanupChunk))
	for k, jids := range l.unclean {
		if len(todo) == cleanupChunk {
			break
		}
		todo[k] = jids
		delete(l.unclean, k)
	}
	l.cleanMu.Unlock()
	byColl := map[string][]docKey{}
	for k := range todo {
		byColl[k.coll] = append(byColl[k.coll], k)
	}
	var errs []error
	for coll, keys := range byColl {
		pull := make([]mongo.WriteModel, len(keys))
		for i, k := range keys {
			pull[i] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: k.id}}).
				SetUpdate(bson.D{{Key: "$pullAll", Value: bson.D{{Key: journalField, Value: todo[k]}}}})
		}
		_, err := store.BulkWrite(ctx, l.cfg.DB.Collection(coll), pull, false)
		if err == nil {
			continue
		}
		errs = append(errs, fmt.Errorf("clean up %s journal ids in %s: %w", l.cfg.Tracker, coll, err))
		// Keep what failed (all of it, unless the failures are known).
		again := keys
		var bwe mongo.BulkWriteException
		if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
			again = nil
			for _, we := range bwe.WriteErrors {
				again = append(again, keys[we.Index])
			}
		}
		l.cleanMu.Lock()
		for _, k := range again {
			l.unclean[k] = append(l.unclean[k], todo[k]...)
		}
		l.cleanMu.Unlock()
	}
	return errors.Join(errs...)
}

// claim writes the seen marks of evs for jid and returns the events jid
// owns: those it marked now or in an earlier, interrupted attempt.
func (l *Ledger) claim(ctx context.Context, jid string, evs []*pb.Event) ([]*pb.Event, error) {
	docs := make([]any, len(evs))
	at := l.cfg.Now().UTC()
	for i, ev := range evs {
		docs[i] = seenDoc{ID: l.seenID(ev.GetId()), Journal: jid, At: at}
	}
	_, err := l.seen.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return evs, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, fmt.Errorf("claim %s events: %w", l.cfg.Tracker, err)
	}
	dup := map[int]bool{}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return nil, fmt.Errorf("claim %s events: %w", l.cfg.Tracker, err)
		}
		dup[we.Index] = true
	}
	// A mark that exists already is ours if an earlier attempt of this
	// journal wrote it. One lookup by _id each: the only filter FerretDB
	// answers from an index.
	ours := map[string]bool{}
	for i := range dup {
		id := l.seenID(evs[i].GetId())
		var mark seenDoc
		if err := l.seen.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&mark); err != nil {
			return nil, fmt.Errorf("read %s claim %s: %w", l.cfg.Tracker, id, err)
		}
		ours[id] = mark.Journal == jid
	}
	out := make([]*pb.Event, 0, len(evs))
	for i, ev := range evs {
		if !dup[i] || ours[l.seenID(ev.GetId())] {
			out = append(out, ev)
		}
	}
	return out, nil
}

// apply applies ops for journal jid. On a first attempt each op is one
// upsert: no document can list a journal id just made, and one statement
// per document is what FerretDB's SQLite backend makes cheap (each is its
// own transaction). Again (Recover), each document is first made to exist
// (an upsert with only $setOnInsert, which repeats harmlessly), then
// updated unless it lists the journal already.
func (l *Ledger) apply(ctx context.Context, jid string, ops []Op, again bool) error {
	byColl := map[string][]Op{}
	for _, op := range ops {
		byColl[op.Coll] = append(byColl[op.Coll], op)
	}
	for _, coll := range slices.Sorted(maps.Keys(byColl)) {
		c := l.cfg.DB.Collection(coll)
		var create, update []mongo.WriteModel
		for _, op := range byColl[coll] {
			filter := bson.D{{Key: "_id", Value: op.ID}}
			upd := opUpdate(op, jid)
			if !again {
				if len(op.Insert) > 0 {
					upd = append(upd, bson.E{Key: "$setOnInsert", Value: op.Insert})
				}
				update = append(update, mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(upd).SetUpsert(true))
				continue
			}
			ins := bson.M{journalField: bson.A{}}
			maps.Copy(ins, op.Insert)
			create = append(create, mongo.NewUpdateOneModel().SetFilter(filter).
				SetUpdate(bson.D{{Key: "$setOnInsert", Value: ins}}).SetUpsert(true))
			filter = append(filter, bson.E{Key: journalField, Value: bson.D{{Key: "$ne", Value: jid}}})
			update = append(update, mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(upd))
		}
		if again {
			if err := upsertAll(ctx, c, create); err != nil {
				return fmt.Errorf("create %s documents: %w", coll, err)
			}
			if _, err := store.BulkWrite(ctx, c, update, false); err != nil {
				return fmt.Errorf("update %s: %w", coll, err)
			}
			continue
		}
		if err := upsertAll(ctx, c, update); err != nil {
			return fmt.Errorf("update %s: %w", coll, err)
		}
	}
	return nil
}

// opUpdate is op's change of a document for journal jid: its counters
// and the journal's id in the document's list.
func opUpdate(op Op, jid string) bson.D {
	upd := bson.D{{Key: "$push", Value: bson.D{{Key: journalField, Value: jid}}}}
	for _, f := range []struct {
		name string
		m    bson.M
	}{{"$inc", op.Inc}, {"$max", op.Max}, {"$set", op.Set}} {
		if len(f.m) > 0 {
			upd = append(upd, bson.E{Key: f.name, Value: f.m})
		}
	}
	return upd
}

// upsertAll runs unordered upserts. Two processes creating one document
// at once make one of them fail with a duplicate key, having changed
// nothing; running the failed ones again finds the document and updates
// it.
func upsertAll(ctx context.Context, c *mongo.Collection, models []mongo.WriteModel) error {
	for attempt := 0; ; attempt++ {
		_, err := store.BulkWrite(ctx, c, models, false)
		if err == nil {
			return nil
		}
		var bwe mongo.BulkWriteException
		if attempt >= 3 || !errors.As(err, &bwe) || bwe.WriteConcernError != nil || !allDuplicates(bwe) {
			return err
		}
		failed := make([]mongo.WriteModel, 0, len(bwe.WriteErrors))
		for _, we := range bwe.WriteErrors {
			failed = append(failed, models[we.Index])
		}
		models = failed
	}
}

func allDuplicates(bwe mongo.BulkWriteException) bool {
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return false
		}
	}
	return len(bwe.WriteErrors) > 0
}

// Recover finishes this tracker's journals older than StaleAfter (their
// process died, or gave up on them) and returns how many events it
// applied. Two processes recovering at once take turns per journal.
func (l *Ledger) Recover(ctx context.Context) (int, error) {
	now := l.cfg.Now().UTC()
	stale := now.Add(-l.cfg.StaleAfter)
	total := 0
	for ctx.Err() == nil {
		var j journalDoc
		// The lease keeps a second recoverer off this journal while the
		// first one works on it.
		err := l.journals.FindOneAndUpdate(ctx,
			bson.D{{Key: "t", Value: l.cfg.Tracker}, {Key: "created", Value: bson.D{{Key: "$lt", Value: stale}}}, {Key: "lease", Value: bson.D{{Key: "$lt", Value: now}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "lease", Value: now.Add(l.cfg.StaleAfter)}}}},
			options.FindOneAndUpdate().SetSort(bson.D{{Key: "created", Value: 1}})).Decode(&j)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("find stale %s journals: %w", l.cfg.Tracker, err)
		}
		evs := make([]*pb.Event, 0, len(j.Events))
		for _, b := range j.Events {
			ev := &pb.Event{}
			if err := proto.Unmarshal(b, ev); err != nil {
				return total, fmt.Errorf("decode %s journal %s: %w", l.cfg.Tracker, j.ID, err)
			}
			evs = append(evs, ev)
		}
		n, err := l.finish(ctx, j.ID, j.At, evs, true)
		if err != nil {
			return total, fmt.Errorf("recover %s journal %s: %w", l.cfg.Tracker, j.ID, err)
		}
		l.cfg.Logger.Info("recovered an unfinished analytics batch", "tracker", l.cfg.Tracker, "journal", j.ID, "events", n)
		total += n
	}
	return total, ctx.Err()
}

// Expire deletes seen marks older than SeenTTL. It does so at most once
// per tenth of SeenTTL (a mark lives at most 10% longer): the delete reads
// every mark on FerretDB, and the sweep that calls Expire runs every claim
// interval.
func (l *Ledger) Expire(ctx context.Context) error {
	now := l.cfg.Now().UTC()
	l.expireMu.Lock()
	due := l.expiredAt.IsZero() || now.Sub(l.expiredAt) >= l.cfg.SeenTTL/10
	l.expireMu.Unlock()
	if !due {
		return nil
	}
	cutoff := now.Add(-l.cfg.SeenTTL)
	_, err := l.seen.DeleteMany(ctx, bson.D{
		{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^" + l.cfg.Tracker + ":"}}},
		{Key: "at", Value: bson.D{{Key: "$lt", Value: cutoff}}},
	})
	if err != nil {
		return fmt.Errorf("expire %s seen marks: %w", l.cfg.Tracker, err)
	}
	l.expireMu.Lock()
	l.expiredAt = now
	l.expireMu.Unlock()
	return nil
}

// merge combines the ops on the same document, keeping first-seen order.
func merge(ops []Op) []Op {
	type key struct{ coll, id string }
	idx := map[key]int{}
	var out []Op
	for _, op := range ops {
		k := key{op.Coll, op.ID}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, Op{Coll: op.Coll, ID: op.ID, Inc: bson.M{}, Max: bson.M{}, Set: bson.M{}, Insert: bson.M{}})
			i = len(out) - 1
		}
		m := &out[i]
		for f, v := range op.Inc {
			m.Inc[f] = add(m.Inc[f], v)
		}
		for f, v := range op.Max {
			if cur, ok := m.Max[f]; !ok || less(cur, v) {
				m.Max[f] = v
			}
		}
		maps.Copy(m.Set, op.Set)
		maps.Copy(m.Insert, op.Insert)
	}
	return out
}

// add sums two counter increments: int64 stays int64, a float makes a
// float.
func add(a, b any) any {
	if a == nil {
		return b
	}
	ai, aok := a.(int64)
	bi, bok := b.(int64)
	if aok && bok {
		return ai + bi
	}
	return toFloat(a) + toFloat(b)
}

func less(a, b any) bool {
	if at, ok := a.(time.Time); ok {
		bt, _ := b.(time.Time)
		return at.Before(bt)
	}
	return toFloat(a) < toFloat(b)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func protoMarshal(ev *pb.Event) ([]byte, error) { return proto.Marshal(ev) }
