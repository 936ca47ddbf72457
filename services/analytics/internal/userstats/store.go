package userstats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/services/analytics/internal/ledger"
)

// MongoDB collections of the UserStatsTracker.
const (
	// UsersCollection: one document per user, a field per metric.
	UsersCollection = "analytics_users"
	// ScoresCollection: one document per (metric, period, period key, user).
	ScoresCollection = "analytics_scores"
	// AchievementsCollection: one document per unlocked achievement.
	AchievementsCollection = "analytics_achievements"
)

type userDoc struct {
	NotesPlayed      int64   `bson:"notes_played"`
	ChatMessages     int64   `bson:"chat_messages"`
	SecondsInRooms   int64   `bson:"seconds_in_rooms"`
	RoomsJoined      int64   `bson:"rooms_joined"`
	Friends          int64   `bson:"friends"`
	FriendRequests   int64   `bson:"friend_requests_sent"`
	Logins           int64   `bson:"logins"`
	SongsPlayed      int64   `bson:"songs_played"`
	SongsCompleted   int64   `bson:"songs_completed"`
	SecondsConnected int64   `bson:"seconds_connected"`
	AccuracySum      float64 `bson:"accuracy_sum"`
	ID               string  `bson:"_id"`
}

func (d userDoc) metric(m string) int64 {
	switch m {
	case NotesPlayed:
		return d.NotesPlayed
	case ChatMessages:
		return d.ChatMessages
	case SecondsInRooms:
		return d.SecondsInRooms
	case RoomsJoined:
		return d.RoomsJoined
	case Friends:
		return d.Friends
	case FriendRequests:
		return d.FriendRequests
	case Logins:
		return d.Logins
	case SongsPlayed:
		return d.SongsPlayed
	case SongsCompleted:
		return d.SongsCompleted
	case SecondsConnected:
		return d.SecondsConnected
	}
	return 0
}

type scoreDoc struct {
	ID     string `bson:"_id"`
	Metric string `bson:"m"`
	Period string `bson:"p"`
	Key    string `bson:"k"`
	User   string `bson:"u"`
	Score  int64  `bson:"s"`
}

func scoreID(metric string, p Period, key, user string) string {
	return metric + "|" + string(p) + "|" + key + "|" + user
}

type achievementDoc struct {
	ID          string    `bson:"_id"`
	User        string    `bson:"u"`
	Achievement string    `bson:"a"`
	At          time.Time `bson:"at"`
}

// Publisher sends a user an event (the user's Redis channel).
type Publisher func(ctx context.Context, ev *pb.UserEvent)

// Store keeps user totals, leaderboard scores and achievements in MongoDB
// and the leaderboards' Redis cache. Plan and After are the
// UserStatsTracker's ledger hooks; reads are safe for concurrent use.
type Store struct {
	users, scores, achievements *mongo.Collection
	boards                      *Boards
	publish                     Publisher
	log                         *slog.Logger

	mu sync.Mutex
	// unlocked remembers achievements known to be unlocked (ids), so that
	// a batch tries to unlock only what it has not seen unlocked; cleared
	// at maxRemembered.
	unlocked map[string]bool
}

// maxRemembered bounds Store.unlocked.
const maxRemembered = 100_000

// NewStore returns the store in db; publish may be nil (no notifications).
func NewStore(db *mongo.Database, boards *Boards, publish Publisher, log *slog.Logger) *Store {
	return &Store{
		users: db.Collection(UsersCollection), scores: db.Collection(ScoresCollection),
		achievements: db.Collection(AchievementsCollection), boards: boards, publish: publish, log: log,
	}
}

// EnsureIndexes creates the indexes leaderboards and achievements are read
// by.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	err := store.EnsureIndexes(ctx, s.scores, mongo.IndexModel{Keys: bson.D{
		{Key: "m", Value: 1}, {Key: "p", Value: 1}, {Key: "k", Value: 1}, {Key: "s", Value: -1},
	}})
	if err == nil {
		err = store.EnsureIndexes(ctx, s.achievements, mongo.IndexModel{Keys: bson.D{{Key: "u", Value: 1}}})
	}
	if err != nil {
		return fmt.Errorf("user stats indexes: %w", err)
	}
	return nil
}

// Plan is the ledger plan: each event's effects on its user's totals and,
// for ranked metrics, on the user's scores of the day, week and all time
// holding at.
func (s *Store) Plan(evs []*pb.Event, at time.Time) []ledger.Op {
	var ops []ledger.Op
	for _, ev := range evs {
		effs := effects(ev)
		if len(effs) == 0 {
			continue
		}
		uid := ev.GetUserId()
		inc := bson.M{}
		for _, e := range effs {
			inc[e.metric] = e.delta
		}
		if ev.GetType() == pb.EventType_EVENT_TYPE_SONG_COMPLETED {
			inc[accuracySum] = Accuracy(ev)
		}
		ops = append(ops, ledger.Op{Coll: UsersCollection, ID: uid, Inc: inc})
		for _, e := range effs {
			if !IsLeaderboard(e.metric) {
				continue
			}
			for _, p := range Periods {
				k := p.Key(at)
				ops = append(ops, ledger.Op{
					Coll: ScoresCollection, ID: scoreID(e.metric, p, k, uid), Inc: bson.M{"s": e.delta},
					Insert: bson.M{"m": e.metric, "p": string(p), "k": k, "u": uid},
				})
			}
		}
	}
	return ops
}

// After unlocks the achievements the batch's totals reached (telling each
// user of a new one) and brings the leaderboards' Redis cache up to the
// stored scores. Both steps repeat harmlessly.
func (s *Store) After(ctx context.Context, evs []*pb.Event, at time.Time) error {
	byUser := map[string][]*pb.Event{}
	var scoreIDs []string
	for _, ev := range evs {
		effs := effects(ev)
		if len(effs) == 0 {
			continue
		}
		byUser[ev.GetUserId()] = append(byUser[ev.GetUserId()], ev)
		for _, e := range effs {
			if IsLeaderboard(e.metric) {
				for _, p := range Periods {
					scoreIDs = append(scoreIDs, scoreID(e.metric, p, p.Key(at), ev.GetUserId()))
				}
			}
		}
	}
	if len(byUser) == 0 {
		return nil
	}
	if err := s.unlock(ctx, byUser, at); err != nil {
		return err
	}
	if len(scoreIDs) == 0 {
		return nil // no leaderboard moved (and $in of nothing is null to FerretDB)
	}
	scores, err := findByIDs[scoreDoc](ctx, s.scores, dedupe(scoreIDs))
	if err != nil {
		return fmt.Errorf("read scores: %w", err)
	}
	return s.boards.Update(ctx, scores)
}

// unlock inserts the achievements reached and not yet unlocked, each dated
// by the event that reached its threshold.
func (s *Store) unlock(ctx context.Context, byUser map[string][]*pb.Event, at time.Time) error {
	uids := make([]string, 0, len(byUser))
	for u, evs := range byUser {
		if s.mayUnlock(u, evs) {
			uids = append(uids, u)
		}
	}
	docs, err := findByIDs[userDoc](ctx, s.users, uids)
	if err != nil {
		return fmt.Errorf("read user totals: %w", err)
	}
	for _, d := range docs {
		for _, a := range Achievements {
			id := d.ID + "|" + a.ID
			total := d.metric(a.Metric)
			if total < a.Threshold || s.isUnlocked(id) {
				continue
			}
			when := crossing(byUser[d.ID], a, total, at)
			_, err := s.achievements.InsertOne(ctx, achievementDoc{ID: id, User: d.ID, Achievement: a.ID, At: when.UTC()})
			if err != nil && !mongo.IsDuplicateKeyError(err) {
				return fmt.Errorf("unlock %s for %s: %w", a.ID, d.ID, err)
			}
			s.remember(id)
			if err != nil {
				continue // unlocked before
			}
			if s.publish != nil {
				s.publish(ctx, &pb.UserEvent{UserId: d.ID, At: timestamppb.New(when), Event: &pb.UserEvent_Achievement{
					Achievement: &pb.AchievementUnlocked{AchievementId: a.ID, Title: a.Title, Metric: a.Metric, Threshold: a.Threshold, UnlockedAt: timestamppb.New(when)},
				}})
			}
		}
	}
	return nil
}

// mayUnlock reports whether evs (one user's batch) moved a metric that
// has an achievement not known to be unlocked for uid: only then are the
// user's totals read. A login, or a connection's seconds, unlocks nothing.
func (s *Store) mayUnlock(uid string, evs []*pb.Event) bool {
	for _, ev := range evs {
		for _, e := range effects(ev) {
			for _, a := range Achievements {
				if a.Metric == e.metric && !s.isUnlocked(uid+"|"+a.ID) {
					return true
				}
			}
		}
	}
	return false
}

// crossing is the time of the event of evs (one user's batch, in order)
// that took the metric to the threshold, given the total after the batch;
// at when no event of the batch did (a repeated After).
func crossing(evs []*pb.Event, a Achievement, total int64, at time.Time) time.Time {
	var batch int64
	for _, ev := range evs {
		for _, e := range effects(ev) {
			if e.metric == a.Metric {
				batch += e.delta
			}
		}
	}
	running := total - batch
	if running >= a.Threshold {
		return at
	}
	for _, ev := range evs {
		for _, e := range effects(ev) {
			if e.metric != a.Metric {
				continue
			}
			running += e.delta
			if running >= a.Threshold {
				if ev.GetAt() != nil {
					return ev.GetAt().AsTime()
				}
				return at
			}
		}
	}
	return at
}

// Stats returns a user's totals, achievements and progress; a user with no
// activity has zero totals (not an error).
func (s *Store) Stats(ctx context.Context, uid string) (*pb.UserStats, error) {
	var d userDoc
	err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: uid}}).Decode(&d)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("read stats of %s: %w", uid, err)
	}
	var have []achievementDoc
	if err := findAll(ctx, s.achievements, bson.D{{Key: "u", Value: uid}}, &have); err != nil {
		return nil, fmt.Errorf("read achievements of %s: %w", uid, err)
	}
	out := &pb.UserStats{
		UserId: uid, NotesPlayed: d.NotesPlayed, ChatMessages: d.ChatMessages, SecondsInRooms: d.SecondsInRooms,
		RoomsJoined: d.RoomsJoined, Friends: d.Friends, Logins: d.Logins, SongsPlayed: d.SongsPlayed,
		SongsCompleted: d.SongsCompleted, SecondsConnected: d.SecondsConnected, FriendRequestsSent: d.FriendRequests,
	}
	if d.SongsCompleted > 0 {
		out.AverageAccuracy = d.AccuracySum / float64(d.SongsCompleted)
	}
	when := map[string]time.Time{}
	type got struct {
		a     *pb.Achievement
		order int
	}
	var list []got
	for _, h := range have {
		when[h.Achievement] = h.At
		a, order, ok := byID(h.Achievement)
		if !ok { // retired from the catalogue: still shown, by its id
			a, order = Achievement{ID: h.Achievement, Title: h.Achievement}, len(Achievements)
		}
		list = append(list, got{&pb.Achievement{
			Id: a.ID, Title: a.Title, UnlockedAt: timestamppb.New(h.At), Metric: a.Metric,
			Current: d.metric(a.Metric), Threshold: a.Threshold, Unlocked: true,
		}, order})
	}
	slices.SortFunc(list, func(x, y got) int {
		if c := x.a.GetUnlockedAt().AsTime().Compare(y.a.GetUnlockedAt().AsTime()); c != 0 {
			return c
		}
		return cmp.Compare(x.order, y.order)
	})
	for _, g := range list {
		out.Achievements = append(out.Achievements, g.a)
	}
	for _, a := range Achievements {
		p := &pb.Achievement{Id: a.ID, Title: a.Title, Metric: a.Metric, Current: d.metric(a.Metric), Threshold: a.Threshold}
		if t, ok := when[a.ID]; ok {
			p.Unlocked, p.UnlockedAt = true, timestamppb.New(t)
		}
		out.Progress = append(out.Progress, p)
	}
	return out, nil
}

// Leaderboard returns the top limit users of metric in the period holding
// now, highest first.
func (s *Store) Leaderboard(ctx context.Context, metric string, p Period, now time.Time, limit int) (*pb.LeaderboardResponse, error) {
	key := p.Key(now)
	entries, err := s.boards.Top(ctx, metric, p, key, limit)
	if err != nil {
		return nil, err
	}
	resp := &pb.LeaderboardResponse{Entries: entries, Period: string(p), PeriodKey: key}
	if end := p.End(now); !end.IsZero() {
		resp.ResetsAt = timestamppb.New(end)
	}
	return resp, nil
}

// isUnlocked reports whether the achievement id is known to be unlocked.
func (s *Store) isUnlocked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unlocked[id]
}

func (s *Store) remember(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unlocked == nil || len(s.unlocked) >= maxRemembered {
		s.unlocked = map[string]bool{}
	}
	s.unlocked[id] = true
}

// findByIDs reads the documents with the given ids (those that exist), one
// lookup each: an _id alone is the filter the embedded FerretDB answers
// from an index, while $in reads and decodes the whole collection
// (pkg/store/README.md), a cost that grew with every user. A batch holds
// at most a few hundred ids.
func findByIDs[T any](ctx context.Context, c *mongo.Collection, ids []string) ([]T, error) {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		var d T
		err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", c.Name(), id, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func findAll(ctx context.Context, c *mongo.Collection, filter bson.D, out any) error {
	cur, err := c.Find(ctx, filter)
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

func dedupe(ids []string) []string {
	slices.Sort(ids)
	return slices.Compact(ids)
}
