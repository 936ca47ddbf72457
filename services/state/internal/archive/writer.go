package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/droplog"
	"github.com/pianorhythm/server/pkg/store"
)

// Messages the Writer takes with Tell (batched).
type (
	// SaveChat archives a message; saving it twice is harmless.
	SaveChat struct{ Msg *pb.ChatMessage }
	// DeleteChat marks one message deleted.
	DeleteChat struct{ RoomID, MessageID string }
	// ClearChat marks every archived message of a room cleared.
	ClearChat struct{ RoomID string }
	// SessionStart opens an online session.
	SessionStart struct {
		UserID, InstanceID, ConnectionID string
		At                               time.Time
	}
	// SessionEnd closes an online session.
	SessionEnd struct {
		UserID, ConnectionID string
		At                   time.Time
	}
	// SaveRoom archives a room as it is now (created or changed).
	SaveRoom struct {
		Room *pb.Room
		At   time.Time
	}
	// DeleteRoom removes a room and its bans (its chat stays).
	DeleteRoom struct{ ID string }
	// Ban records a room ban; a zero Until bans without end.
	Ban struct {
		RoomID, UserID string
		Until          time.Time
	}
	// Unban lifts a room ban.
	Unban struct{ RoomID, UserID string }
	// SetFriend records both sides of a friendship (Status as seen from
	// UserID, Mirror from OtherID); UNSPECIFIED removes them.
	SetFriend struct {
		UserID, OtherID string
		Status, Mirror  pb.FriendStatus
	}
	// SaveConfig records the server-wide settings.
	SaveConfig struct{ Config *pb.ServerConfig }
	// SaveGuest records a guest user.
	SaveGuest struct{ User *pb.User }
	// Tick retries pending writes (sent on the flush interval) and now and
	// then sweeps expired refresh tokens.
	Tick struct{}
)

// Every write the Writer takes is idempotent (an insert ignoring a known
// id, an upsert, a delete, a replace by id): a batch that crashed the
// writer is written again after its restart.
func (SaveChat) Idempotent() bool     { return true }
func (DeleteChat) Idempotent() bool   { return true }
func (ClearChat) Idempotent() bool    { return true }
func (SessionStart) Idempotent() bool { return true }
func (SessionEnd) Idempotent() bool   { return true }
func (SaveRoom) Idempotent() bool     { return true }
func (DeleteRoom) Idempotent() bool   { return true }
func (Ban) Idempotent() bool          { return true }
func (Unban) Idempotent() bool        { return true }
func (SetFriend) Idempotent() bool    { return true }
func (SaveConfig) Idempotent() bool   { return true }
func (SaveGuest) Idempotent() bool    { return true }
func (Tick) Idempotent() bool         { return true }

// Messages the Writer answers (Ask); they are handled after everything
// told before them by the same sender, and flush first.
type (
	// Flush writes everything pending; the reply is nil or the error.
	Flush struct{}
	// LoadChat flushes, then answers RecentChat(RoomID, Since, N) as
	// []*pb.ChatMessage.
	LoadChat struct {
		RoomID string
		Since  time.Time
		N      int
	}
)

// WriterConfig configures the Writer.
type WriterConfig struct {
	Archive *Archive
	Logger  *slog.Logger
	// MaxPending bounds the writes kept while MongoDB fails; beyond it the
	// oldest are dropped and logged. Zero value means 100000.
	MaxPending int
	// OpTimeout bounds one bulk write or query; zero value means 10s.
	OpTimeout time.Duration
	// SweepEvery is how often a Tick also deletes expired refresh tokens;
	// zero value means 10 minutes.
	SweepEvery time.Duration
	// KeepRevoked is how long a revoked token family is remembered; zero
	// value means 30 days.
	KeepRevoked time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Dropped counts the writes dropped past MaxPending; nil counts none.
	Dropped metric.Int64Counter
}

// dropLogPeriod is how often, at most, dropped writes are logged (with
// how many since the last line): an outage drops one per write queued.
const dropLogPeriod = 10 * time.Second

// pending holds writes not yet acknowledged by MongoDB. It lives outside
// the actor instance so a restart after a panic keeps it. Chat is written
// before the other documents of the same flush.
type pending struct {
	chat      []docOp
	docs      []docOp
	lastSweep time.Time
	drops     *droplog.Log
}

// docOp is one pending write: a document to insert (insert set: a
// duplicate id is a retry and is ignored), or a change (model). key is set
// when the change replaces or deletes a whole document (that id): only the
// last such write of a key in one bulk write is sent, so a room changed a
// hundred times while MongoDB was busy costs one write.
//
// History (chat, sessions) is written by inserts only: FerretDB on SQLite
// finds a document by _id through its index, but an update, replace or
// delete reads the whole collection (pkg/store/README.md), so a write
// that changed a growing collection would grow slower with it.
//
// A change may carry fresh: the whole document it writes, tried as an
// insert first (a guest is saved as it is created): the writes of a run
// that are fresh go in one InsertMany, one transaction on FerretDB, where
// each statement of an upsert is one of its own; a document that exists
// already gets the change.
type docOp struct {
	coll   *mongo.Collection
	insert any
	model  mongo.WriteModel
	key    string
	fresh  any
}

// NewWriter returns the factory of the Writer actor; every instance it
// builds shares one pending buffer. The actor is a BatchReceiver: with
// Props.BatchSize > 1, writes queued while a bulk write runs are grouped
// into the next one (group commit), so batches grow with load without a
// timer delaying each message.
func NewWriter(cfg WriterConfig) func() actor.Actor {
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 100000
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 10 * time.Minute
	}
	if cfg.KeepRevoked <= 0 {
		cfg.KeepRevoked = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	buf := &pending{}
	buf.drops = droplog.New(droplog.Config{Counter: cfg.Dropped, Period: dropLogPeriod, Now: cfg.Now,
		Report: func(n int64, _ time.Duration) { // in the actor's goroutine, from bound
			cfg.Logger.Error("archive: pending writes over limit, oldest dropped (state.archive.dropped)",
				"dropped", n, "pending", len(buf.chat)+len(buf.docs))
		}})
	return func() actor.Actor { return &writer{cfg: cfg, buf: buf} }
}

type writer struct {
	cfg WriterConfig
	buf *pending
}

var (
	_ actor.Actor         = (*writer)(nil)
	_ actor.BatchReceiver = (*writer)(nil)
	_ actor.Stopper       = (*writer)(nil)
)

func (w *writer) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case Flush:
		if err := w.flush(c.Context()); err != nil {
			c.Respond(err)
			return
		}
		c.Respond(nil)
	case LoadChat:
		if err := w.flush(c.Context()); err != nil {
			w.cfg.Logger.Warn("archive: flush before chat load", "err", err)
		}
		ctx, cancel := context.WithTimeout(c.Context(), w.cfg.OpTimeout)
		defer cancel()
		msgs, err := w.cfg.Archive.RecentChat(ctx, m.RoomID, m.Since, m.N)
		if err != nil {
			c.Respond(err)
			return
		}
		c.Respond(msgs)
	case Tick:
		if err := w.flush(c.Context()); err != nil {
			w.cfg.Logger.Warn("archive: retry pending writes", "err", err, "pending", w.pendingCount())
		}
		w.sweep(c.Context())
	default:
		w.ReceiveBatch(c, []any{m})
	}
}

func (w *writer) ReceiveBatch(c *actor.Context, msgs []any) {
	for _, m := range msgs {
		w.add(m)
	}
	if err := w.flush(c.Context()); err != nil {
		w.cfg.Logger.Warn("archive: bulk write failed, will retry", "err", err, "pending", w.pendingCount())
	}
}

// Stopped makes a last attempt to write what is pending.
func (w *writer) Stopped(c *actor.Context) {
	if err := w.flush(c.Context()); err != nil {
		w.cfg.Logger.Error("archive: writes lost at stop", "err", err, "pending", w.pendingCount())
	}
}

func (w *writer) pendingCount() int { return len(w.buf.chat) + len(w.buf.docs) }

// sweep deletes expired refresh tokens every SweepEvery.
func (w *writer) sweep(ctx context.Context) {
	now := w.cfg.Now()
	if now.Sub(w.buf.lastSweep) < w.cfg.SweepEvery {
		return
	}
	w.buf.lastSweep = now
	ctx, cancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
	defer cancel()
	if err := w.cfg.Archive.SweepTokens(ctx, now, w.cfg.KeepRevoked); err != nil {
		w.cfg.Logger.Warn("archive: sweep refresh tokens", "err", err)
	}
}

func (w *writer) doc(c *mongo.Collection, m mongo.WriteModel) {
	w.buf.docs = append(w.buf.docs, docOp{coll: c, model: m})
}

// whole queues a write that replaces or deletes the document id.
func (w *writer) whole(c *mongo.Collection, id string, m mongo.WriteModel) {
	w.buf.docs = append(w.buf.docs, docOp{coll: c, model: m, key: id})
}

func replaceByID(id string, doc any) *mongo.ReplaceOneModel {
	return mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(doc).SetUpsert(true)
}

func deleteByID(id string) *mongo.DeleteOneModel {
	return mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: id}})
}

func (w *writer) add(m any) {
	a := w.cfg.Archive
	switch m := m.(type) {
	case SaveChat:
		// An insert whose id exists already is a retry: ignored, so it never
		// undoes a delete or a clear that happened in between.
		w.buf.chat = append(w.buf.chat, docOp{coll: a.chat, insert: toChatDoc(m.Msg)})
	case DeleteChat:
		w.buf.chat = append(w.buf.chat, docOp{coll: a.chat, model: mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: m.MessageID}, {Key: "room_id", Value: m.RoomID}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "deleted", Value: true}}}})})
	case ClearChat:
		w.buf.chat = append(w.buf.chat, docOp{coll: a.chat, model: mongo.NewUpdateManyModel().
			SetFilter(bson.D{{Key: "room_id", Value: m.RoomID}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "cleared", Value: true}}}})})
	case SessionStart:
		w.buf.docs = append(w.buf.docs, docOp{coll: a.sessions, insert: sessionDoc{
			ID: sessionID(m.UserID, m.ConnectionID), UserID: m.UserID, InstanceID: m.InstanceID,
			ConnectionID: m.ConnectionID, OnlineAt: &m.At,
		}})
	case SessionEnd:
		w.buf.docs = append(w.buf.docs, docOp{coll: a.sessions, insert: sessionDoc{
			ID: sessionID(m.UserID, m.ConnectionID) + offlineSuffix, UserID: m.UserID,
			ConnectionID: m.ConnectionID, OfflineAt: &m.At,
		}})
	case SaveRoom:
		stored := proto.CloneOf(m.Room)
		stored.MemberCount = 0
		b, err := proto.Marshal(stored)
		if err != nil {
			w.cfg.Logger.Error("archive: marshal room", "room", m.Room.GetId(), "err", err)
			return
		}
		w.whole(a.rooms, m.Room.GetId(), replaceByID(m.Room.GetId(), roomDoc{ID: m.Room.GetId(), Room: b, UpdatedAt: m.At}))
	case DeleteRoom:
		w.whole(a.rooms, m.ID, deleteByID(m.ID))
		w.doc(a.bans, mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "room_id", Value: m.ID}}))
	case Ban:
		id := banID(m.RoomID, m.UserID)
		w.whole(a.bans, id, replaceByID(id, banDoc{ID: id, RoomID: m.RoomID, UserID: m.UserID, Until: m.Until}))
	case Unban:
		w.whole(a.bans, banID(m.RoomID, m.UserID), deleteByID(banID(m.RoomID, m.UserID)))
	case SetFriend:
		for _, side := range []struct {
			user, other string
			st          pb.FriendStatus
		}{{m.UserID, m.OtherID, m.Status}, {m.OtherID, m.UserID, m.Mirror}} {
			id := side.user + "/" + side.other
			if side.st == pb.FriendStatus_FRIEND_STATUS_UNSPECIFIED {
				w.whole(a.friends, id, deleteByID(id))
				continue
			}
			w.whole(a.friends, id, replaceByID(id, friendDoc{ID: id, UserID: side.user, OtherID: side.other, Status: int32(side.st)}))
		}
	case SaveConfig:
		w.whole(a.config, configID, replaceByID(configID, configDoc{ID: configID, Maintenance: m.Config.GetMaintenance(), Motd: m.Config.GetMotd()}))
	case SaveGuest:
		b, err := proto.Marshal(m.User)
		if err != nil {
			w.cfg.Logger.Error("archive: marshal guest", "user", m.User.GetId(), "err", err)
			return
		}
		doc := guestDoc{ID: m.User.GetId(), User: b}
		w.buf.docs = append(w.buf.docs, docOp{coll: a.guests, model: replaceByID(doc.ID, doc), key: doc.ID, fresh: doc})
	case Tick:
	default:
		w.cfg.Logger.Error("archive: unknown message", "type", fmt.Sprintf("%T", m))
	}
	w.bound()
}

// bound drops the oldest pending writes past MaxPending, so a long MongoDB
// outage costs archive completeness, not memory. Every drop is counted;
// the log says how many at most once per dropLogPeriod.
func (w *writer) bound() {
	over := w.pendingCount() - w.cfg.MaxPending
	if over <= 0 {
		return
	}
	docs := min(over, len(w.buf.docs))
	w.buf.docs = w.buf.docs[docs:]
	w.buf.chat = w.buf.chat[over-docs:]
	w.buf.drops.Drop(int64(over))
}

// flush writes what is pending, in order within each collection. On error
// it stays pending; what MongoDB already applied is applied again on retry,
// which every write here tolerates.
//
// The documents' writes are grouped by collection first (a stable sort):
// arrivals interleave a guest's save with a session's start, and written
// in the order queued they made runs of one or two writes, a command each.
// No write here depends on one in another collection having been made.
// What a failure leaves pending keeps that order, ahead of what is queued
// later, so bound still drops from the writes queued before the failure.
func (w *writer) flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
	defer cancel()
	slices.SortStableFunc(w.buf.docs, func(a, b docOp) int { return strings.Compare(a.coll.Name(), b.coll.Name()) })
	for _, ops := range []*[]docOp{&w.buf.chat, &w.buf.docs} {
		for len(*ops) > 0 {
			n, err := writeRun(ctx, *ops)
			if err != nil {
				return err
			}
			clear((*ops)[:n])
			*ops = (*ops)[n:]
		}
		*ops = nil
	}
	return nil
}

// writeRun writes the leading run of ops of one kind on one collection and
// returns how many ops it settled. Inserts go in one unordered InsertMany
// (tens of times cheaper than upserts on FerretDB); changes in one ordered
// bulk write, after the inserts queued before them. Of the changes that
// replace or delete a whole document, only the last per document is sent:
// the earlier ones would be overwritten within the same bulk write.
func writeRun(ctx context.Context, ops []docOp) (int, error) {
	first := ops[0]
	n := 1
	for n < len(ops) && ops[n].coll == first.coll && (ops[n].insert == nil) == (first.insert == nil) {
		n++
	}
	if first.insert != nil {
		docs := make([]any, n)
		for i, op := range ops[:n] {
			docs[i] = op.insert
		}
		if _, err := insertMany(ctx, first.coll, docs); err != nil {
			return 0, fmt.Errorf("archive %d inserts into %s: %w", n, first.coll.Name(), err)
		}
		return n, nil
	}
	last := make(map[string]int, n)
	whole := true // every change replaces or deletes one document
	for i, op := range ops[:n] {
		if op.key != "" {
			last[op.key] = i
		} else {
			whole = false
		}
	}
	var sent []docOp
	for i, op := range ops[:n] {
		if op.key == "" || last[op.key] == i {
			sent = append(sent, op)
		}
	}
	if whole {
		// The writes are of distinct documents, so their order does not
		// matter: the fresh ones are inserted first.
		var err error
		if sent, err = insertFresh(ctx, first.coll, sent); err != nil {
			return 0, err
		}
	}
	models := make([]mongo.WriteModel, len(sent))
	for i, op := range sent {
		models[i] = op.model
	}
	if len(models) == 0 {
		return n, nil
	}
	if _, err := store.BulkWrite(ctx, first.coll, models, true); err != nil {
		return 0, fmt.Errorf("archive %d writes to %s: %w", len(models), first.coll.Name(), err)
	}
	return n, nil
}

// insertFresh inserts the documents of the ops that carry one, in one
// unordered InsertMany, and returns the ops still to send: those without,
// and those whose document existed already.
func insertFresh(ctx context.Context, c *mongo.Collection, ops []docOp) ([]docOp, error) {
	var fresh, rest []docOp
	for _, op := range ops {
		if op.fresh != nil {
			fresh = append(fresh, op)
		} else {
			rest = append(rest, op)
		}
	}
	if len(fresh) == 0 {
		return ops, nil
	}
	docs := make([]any, len(fresh))
	for i, op := range fresh {
		docs[i] = op.fresh
	}
	existed, err := insertMany(ctx, c, docs)
	if err != nil {
		return nil, fmt.Errorf("archive %d new documents into %s: %w", len(docs), c.Name(), err)
	}
	for _, i := range existed {
		rest = append(rest, fresh[i])
	}
	return rest, nil
}

// insertMany inserts docs in one unordered InsertMany and returns the
// indexes of those whose id existed already (not an error: a retry, or a
// document to change instead); any other failure is the error.
func insertMany(ctx context.Context, c *mongo.Collection, docs []any) ([]int, error) {
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, err
	}
	existed := make([]int, len(bwe.WriteErrors))
	for i, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return nil, err
		}
		existed[i] = we.Index
	}
	return existed, nil
}
