package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
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
	// Tick retries pending writes (sent on the flush interval).
	Tick struct{}
)

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
}

// pending holds writes not yet acknowledged by MongoDB. It lives outside
// the actor instance so a restart after a panic keeps it.
type pending struct {
	chat     []chatOp
	sessions []mongo.WriteModel
	dropped  int
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
	buf := &pending{}
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
			w.cfg.Logger.Warn("archive: retry pending writes", "err", err, "pending", len(w.buf.chat)+len(w.buf.sessions))
		}
	default:
		w.ReceiveBatch(c, []any{m})
	}
}

func (w *writer) ReceiveBatch(c *actor.Context, msgs []any) {
	for _, m := range msgs {
		w.add(m)
	}
	if err := w.flush(c.Context()); err != nil {
		w.cfg.Logger.Warn("archive: bulk write failed, will retry", "err", err, "pending", len(w.buf.chat)+len(w.buf.sessions))
	}
}

// Stopped makes a last attempt to write what is pending.
func (w *writer) Stopped(c *actor.Context) {
	if err := w.flush(c.Context()); err != nil {
		w.cfg.Logger.Error("archive: writes lost at stop", "err", err, "pending", len(w.buf.chat)+len(w.buf.sessions))
	}
}

func (w *writer) add(m any) {
	switch m := m.(type) {
	case SaveChat:
		// An insert whose id exists already is a retry: ignored, so it never
		// undoes a delete or a clear that happened in between.
		w.buf.chat = append(w.buf.chat, chatOp{insert: toChatDoc(m.Msg)})
	case DeleteChat:
		w.buf.chat = append(w.buf.chat, chatOp{model: mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: m.MessageID}, {Key: "room_id", Value: m.RoomID}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "deleted", Value: true}}}})})
	case ClearChat:
		w.buf.chat = append(w.buf.chat, chatOp{model: mongo.NewUpdateManyModel().
			SetFilter(bson.D{{Key: "room_id", Value: m.RoomID}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "cleared", Value: true}}}})})
	case SessionStart:
		w.buf.sessions = append(w.buf.sessions, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: m.UserID + "/" + m.ConnectionID}}).
			SetUpdate(bson.D{{Key: "$setOnInsert", Value: bson.D{
				{Key: "user_id", Value: m.UserID}, {Key: "instance_id", Value: m.InstanceID},
				{Key: "connection_id", Value: m.ConnectionID}, {Key: "online_at", Value: m.At},
			}}}).
			SetUpsert(true))
	case SessionEnd:
		w.buf.sessions = append(w.buf.sessions, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: m.UserID + "/" + m.ConnectionID}}).
			SetUpdate(bson.D{
				{Key: "$set", Value: bson.D{{Key: "offline_at", Value: m.At}}},
				{Key: "$setOnInsert", Value: bson.D{
					{Key: "user_id", Value: m.UserID}, {Key: "connection_id", Value: m.ConnectionID}, {Key: "online_at", Value: m.At},
				}},
			}).
			SetUpsert(true))
	case Tick:
	default:
		w.cfg.Logger.Error("archive: unknown message", "type", fmt.Sprintf("%T", m))
	}
	w.bound()
}

// bound drops the oldest pending writes past MaxPending, so a long MongoDB
// outage costs archive completeness, not memory.
func (w *writer) bound() {
	over := len(w.buf.chat) + len(w.buf.sessions) - w.cfg.MaxPending
	if over <= 0 {
		return
	}
	if n := min(over, len(w.buf.sessions)); n > 0 {
		w.buf.sessions = w.buf.sessions[n:]
		over -= n
	}
	if over > 0 {
		w.buf.chat = w.buf.chat[over:]
	}
	w.buf.dropped += over
	w.cfg.Logger.Error("archive: pending writes over limit, oldest dropped", "dropped_total", w.buf.dropped)
}

// flush writes what is pending, in order. On error it stays pending; what
// MongoDB already applied is applied again on retry, which every write here
// tolerates.
func (w *writer) flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
	defer cancel()
	for len(w.buf.chat) > 0 {
		n, err := w.writeChatRun(ctx, w.buf.chat)
		if err != nil {
			return err
		}
		clear(w.buf.chat[:n])
		w.buf.chat = w.buf.chat[n:]
	}
	w.buf.chat = nil
	if len(w.buf.sessions) > 0 {
		ordered := options.BulkWrite().SetOrdered(true)
		if _, err := w.cfg.Archive.sessions.BulkWrite(ctx, w.buf.sessions, ordered); err != nil {
			return fmt.Errorf("archive %d session writes: %w", len(w.buf.sessions), err)
		}
		clear(w.buf.sessions)
		w.buf.sessions = w.buf.sessions[:0]
	}
	return nil
}

// writeChatRun writes the leading run of ops of one kind and returns how
// many it wrote. New messages go in one unordered InsertMany (tens of times
// cheaper than upserts on FerretDB; a duplicate id is a retry and is
// ignored); deletes and clears in one ordered bulk write, after the
// messages queued before them.
func (w *writer) writeChatRun(ctx context.Context, ops []chatOp) (int, error) {
	n := 1
	for n < len(ops) && (ops[n].insert == nil) == (ops[0].insert == nil) {
		n++
	}
	if ops[0].insert != nil {
		docs := make([]any, n)
		for i, op := range ops[:n] {
			docs[i] = op.insert
		}
		_, err := w.cfg.Archive.chat.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if err != nil && !onlyDuplicates(err) {
			return 0, fmt.Errorf("archive %d chat messages: %w", n, err)
		}
		return n, nil
	}
	models := make([]mongo.WriteModel, n)
	for i, op := range ops[:n] {
		models[i] = op.model
	}
	if _, err := w.cfg.Archive.chat.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true)); err != nil {
		return 0, fmt.Errorf("archive %d chat changes: %w", n, err)
	}
	return n, nil
}

// chatOp is one pending chat write: a message to insert, or a change.
type chatOp struct {
	insert any
	model  mongo.WriteModel
}

// onlyDuplicates reports whether err is a bulk insert's failure made only
// of duplicate key errors: messages that were archived already.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return false
		}
	}
	return true
}
