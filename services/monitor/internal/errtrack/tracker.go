package errtrack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// Config configures a Tracker.
type Config struct {
	// SpikeThreshold: a group spikes when it gets more than this many
	// reports within SpikeWindow; zero means 10.
	SpikeThreshold int
	// SpikeWindow; zero means one minute. A group alerts at most once per
	// window.
	SpikeWindow time.Duration
	// MaxGroups bounds the groups kept; the least recently seen group is
	// forgotten first. Zero means 1000.
	MaxGroups int
	// Now tells the time of reports without one and of spikes; nil means
	// time.Now.
	Now func() time.Time
	// Webhook receives spike alerts; nil means alerts are only logged.
	Webhook *Webhook
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.SpikeThreshold == 0 {
		c.SpikeThreshold = 10
	}
	if c.SpikeWindow == 0 {
		c.SpikeWindow = time.Minute
	}
	if c.MaxGroups == 0 {
		c.MaxGroups = 1000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a configuration Spawn cannot use.
func (c Config) Validate() error {
	if c.SpikeThreshold < 0 || c.SpikeWindow < 0 || c.MaxGroups < 0 {
		return errors.New("errtrack: negative threshold, window or group limit")
	}
	return nil
}

// Tracker is the ErrorTracker. Its methods are safe for concurrent use.
type Tracker struct {
	ref     *actor.Ref
	webhook *Webhook
}

// Spawn starts the tracker's actor (and the webhook's, when configured) in
// sys.
func Spawn(sys *actor.System, cfg Config) (*Tracker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Webhook != nil {
		if err := cfg.Webhook.spawn(sys); err != nil {
			return nil, err
		}
	}
	// Groups outlive restarts of the actor, like the status history.
	st := &groups{cfg: cfg, byFP: map[string]*group{}, rates: map[string]*rate{}}
	ref, err := sys.Spawn(actor.Props{
		Kind: "error-tracker", Name: "error-tracker",
		New: func() actor.Actor { return &trackerActor{st: st} },
	})
	if err != nil {
		return nil, fmt.Errorf("spawn error tracker: %w", err)
	}
	return &Tracker{ref: ref, webhook: cfg.Webhook}, nil
}

// Report queues r for grouping; it blocks only while the tracker's mailbox
// is full, until ctx ends. r must not be modified afterwards.
func (t *Tracker) Report(ctx context.Context, r *pb.ErrorReport) error {
	if err := t.ref.Tell(ctx, r); err != nil {
		return fmt.Errorf("report error: %w", err)
	}
	return nil
}

// Groups returns the groups, most recently seen first, after every report
// queued before the call is applied.
func (t *Tracker) Groups(ctx context.Context) ([]*pb.ErrorGroup, error) {
	gs, err := actor.Ask[[]*pb.ErrorGroup](ctx, t.ref, listQuery{})
	if err != nil {
		return nil, fmt.Errorf("list error groups: %w", err)
	}
	return gs, nil
}

// Flush returns once every report queued before the call is applied and
// the alerts it raised have been delivered (or failed).
func (t *Tracker) Flush(ctx context.Context) error {
	if _, err := t.Groups(ctx); err != nil {
		return err
	}
	if t.webhook != nil {
		return t.webhook.flush(ctx)
	}
	return nil
}

// Rates returns the error reports per minute of every service (only
// service, when set), over the last hour.
func (t *Tracker) Rates(ctx context.Context, service string) ([]*pb.ServiceErrorRate, error) {
	rs, err := actor.Ask[[]*pb.ServiceErrorRate](ctx, t.ref, ratesQuery{service: service})
	if err != nil {
		return nil, fmt.Errorf("error rates: %w", err)
	}
	return rs, nil
}

type (
	listQuery  struct{}
	ratesQuery struct{ service string }
)

type trackerActor struct{ st *groups }

func (a *trackerActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case *pb.ErrorReport:
		a.st.add(c.Context(), m)
	case listQuery:
		c.Respond(a.st.list())
	case ratesQuery:
		c.Respond(a.st.rateList(m.service))
	}
}

// group is one fingerprint's record plus its spike detector.
type group struct {
	fp, service, message string
	count                int64
	first, last          time.Time
	traceID              string
	userID, roomID       string          // of the latest report that named one
	users                map[string]bool // distinct users, up to maxUsers
	recent               []time.Time     // the last SpikeThreshold+1 arrivals, oldest first
	alertedUntil         time.Time
}

// maxUsers bounds the distinct users counted per group.
const maxUsers = 1000

// groups is the tracker actor's state.
type groups struct {
	cfg   Config
	byFP  map[string]*group
	rates map[string]*rate // per service
}

func (s *groups) add(ctx context.Context, r *pb.ErrorReport) {
	now := s.cfg.Now()
	at := now
	if r.GetAt() != nil {
		at = r.GetAt().AsTime()
	}
	fp := r.GetFingerprint()
	if fp == "" {
		fp = Fingerprint(r.GetService(), r.GetMessage(), r.GetStack())
	}
	g := s.byFP[fp]
	if g == nil {
		s.evict()
		g = &group{fp: fp, service: r.GetService(), first: at, last: at, users: map[string]bool{}}
		s.byFP[fp] = g
	}
	g.count++
	s.rate(r.GetService()).add(now)
	user, room := r.GetUserId(), r.GetRoomId()
	if user == "" {
		user = r.GetAttributes()["user_id"]
	}
	if room == "" {
		room = r.GetAttributes()["room_id"]
	}
	if user != "" && len(g.users) < maxUsers {
		g.users[user] = true
	}
	if at.Before(g.first) {
		g.first = at
	}
	if !at.Before(g.last) {
		g.last = at
		// The newest message is the most useful example of the group.
		g.message = r.GetMessage()
		if r.GetTraceId() != "" {
			g.traceID = r.GetTraceId()
		}
		if user != "" {
			g.userID = user
		}
		if room != "" {
			g.roomID = room
		}
	}
	s.spike(ctx, g, now)
}

// spike raises an alert when more than SpikeThreshold reports of g arrived
// within SpikeWindow (by arrival time, so replayed old reports cannot
// hide a live spike), at most once per window.
func (s *groups) spike(ctx context.Context, g *group, now time.Time) {
	limit := s.cfg.SpikeThreshold + 1
	g.recent = append(g.recent, now)
	if len(g.recent) > limit {
		g.recent = append(g.recent[:0], g.recent[len(g.recent)-limit:]...)
	}
	if len(g.recent) < limit || now.Sub(g.recent[0]) >= s.cfg.SpikeWindow || now.Before(g.alertedUntil) {
		return
	}
	g.alertedUntil = now.Add(s.cfg.SpikeWindow)
	a := Alert{
		Fingerprint: g.fp, Service: g.service, Message: g.message,
		Count: g.count, InWindow: len(g.recent), Window: s.cfg.SpikeWindow.String(),
		FirstSeen: g.first, LastSeen: g.last, TraceID: g.traceID,
	}
	s.cfg.Logger.WarnContext(ctx, "error spike", "fingerprint", a.Fingerprint, "service", a.Service,
		"message", a.Message, "in_window", a.InWindow, "window", a.Window)
	if s.cfg.Webhook != nil {
		s.cfg.Webhook.send(ctx, a)
	}
}

// evict forgets the least recently seen group when the tracker is full.
func (s *groups) evict() {
	if len(s.byFP) < s.cfg.MaxGroups {
		return
	}
	var oldest *group
	for _, g := range s.byFP {
		if oldest == nil || g.last.Before(oldest.last) {
			oldest = g
		}
	}
	delete(s.byFP, oldest.fp)
}

func (s *groups) list() []*pb.ErrorGroup {
	out := make([]*pb.ErrorGroup, 0, len(s.byFP))
	for _, g := range s.byFP {
		out = append(out, &pb.ErrorGroup{
			Fingerprint: g.fp, Service: g.service, Message: g.message, Count: g.count,
			FirstSeen: timestamppb.New(g.first), LastSeen: timestamppb.New(g.last), LastTraceId: g.traceID,
			LastUserId: g.userID, LastRoomId: g.roomID, UsersAffected: int64(len(g.users)),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].GetLastSeen().AsTime(), out[j].GetLastSeen().AsTime()
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return out[i].GetFingerprint() < out[j].GetFingerprint()
	})
	return out
}
