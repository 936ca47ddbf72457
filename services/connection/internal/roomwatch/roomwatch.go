// Package roomwatch keeps the connections that watch the room list
// (watchRooms, Multiplayer Piano's +ls) up to date with one poll of the
// room list per edge instance, however many watch: every Interval while
// anyone watches, the list is read again, compared with the last one, and
// what changed is sent to every watcher as one shared roomsChanged frame.
//
// A poll rather than events: a room's member count changes with every
// join and leave of every instance, and the room list is wanted by few
// connections at a time (people choosing a room); one read every two
// seconds per instance costs less than an event per join fanned out to
// every instance.
package roomwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/protobuf/proto"
)

// PageSize is the page size a Lister is asked for (the state service's
// largest).
const PageSize = 200

// Config configures a Watcher; every zero value has a default.
type Config struct {
	// Interval is how often the list is read while anyone watches. Zero
	// means 2s.
	Interval time.Duration
	// MaxRooms bounds the rooms read per poll (pages of PageSize). Zero
	// means 1000.
	MaxRooms int
	// Logger reports failing polls (once per run of failures); nil
	// discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 2 * time.Second
	}
	if c.MaxRooms <= 0 {
		c.MaxRooms = 1000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Lister reads one page of the listed rooms (pageToken "" for the first).
type Lister func(ctx context.Context, pageToken string) (*pb.ListRoomsResponse, error)

// Member is a watching connection.
type Member interface {
	// ConnID identifies the connection; it must not change.
	ConnID() string
	// Send queues frame without blocking; false means the connection
	// could not take it (closing, or hopelessly behind): it stops
	// watching.
	Send(frame *codec.Frame) bool
}

// Watcher is the room list of one edge instance and who watches it. Its
// goroutine (started by New, stopped by Close) reads the list; Watch and
// Unwatch are safe for concurrent use.
type Watcher struct {
	cfg  Config
	list Lister
	reqs chan *request
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	watchers map[string]Member

	// Owned by the goroutine.
	last    map[string]*pb.Room
	order   []string // ids of last, in the list's order
	lastAt  time.Time
	failing bool
}

type request struct {
	ctx  context.Context
	m    Member
	id   string
	done chan error
}

// ErrClosed is Watch's answer once the Watcher is closed.
var ErrClosed = errors.New("room list watcher closed")

// New starts a Watcher reading the list with list.
func New(cfg Config, list Lister) *Watcher {
	w := &Watcher{
		cfg: cfg.withDefaults(), list: list,
		reqs: make(chan *request), stop: make(chan struct{}), done: make(chan struct{}),
		watchers: make(map[string]Member),
	}
	go w.run()
	return w
}

// Watch makes m a watcher: it is sent the whole list first, as a roomList
// echoing id (read now unless the last read is fresher than Interval),
// then a roomsChanged whenever the list changes, until Unwatch. A member
// already watching gets the whole list again. The error is the list's
// (m does not watch then) or ctx's.
func (w *Watcher) Watch(ctx context.Context, m Member, id string) error {
	r := &request{ctx: ctx, m: m, id: id, done: make(chan error, 1)}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.stop:
		return ErrClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// It may still be added; the connection unwatches when it ends.
		return ctx.Err()
	}
}

// Unwatch ends connID's watch; it never waits.
func (w *Watcher) Unwatch(connID string) {
	w.mu.Lock()
	delete(w.watchers, connID)
	w.mu.Unlock()
}

// Watching is the number of watchers.
func (w *Watcher) Watching() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watchers)
}

// Close stops the goroutine and waits for it; watchers hear no more.
func (w *Watcher) Close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *Watcher) run() {
	defer close(w.done)
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case r := <-w.reqs:
			r.done <- w.watch(r)
		case <-t.C:
			if w.Watching() > 0 {
				w.poll(context.Background())
			}
		}
	}
}

// watch answers one Watch.
func (w *Watcher) watch(r *request) error {
	if w.last == nil || time.Since(w.lastAt) >= w.cfg.Interval {
		if err := w.poll(r.ctx); err != nil {
			return err
		}
	}
	if r.ctx.Err() != nil {
		return r.ctx.Err() // the connection gave up waiting
	}
	rooms := make([]*pb.Room, 0, len(w.order))
	for _, id := range w.order {
		rooms = append(rooms, w.last[id])
	}
	m := &pb.ServerMessage{Id: r.id, Payload: &pb.ServerMessage_RoomList{RoomList: &pb.RoomList{Rooms: rooms}}}
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.m.Send(codec.NewFrame(m)) {
		w.watchers[r.m.ConnID()] = r.m
	}
	return nil
}

// poll reads the list, sends what changed to every watcher and keeps it
// as the last list.
func (w *Watcher) poll(ctx context.Context) error {
	rooms, err := w.read(ctx)
	if err != nil {
		if !w.failing {
			w.failing = true
			w.cfg.Logger.Warn("room list not read; watchers keep the last one until it is", "err", err)
		}
		return err
	}
	if w.failing {
		w.failing = false
		w.cfg.Logger.Info("room list read again")
	}
	next := make(map[string]*pb.Room, len(rooms))
	order := make([]string, 0, len(rooms))
	var changed []*pb.Room
	for _, r := range rooms {
		if _, dup := next[r.GetId()]; dup {
			continue // moved between pages while read
		}
		next[r.GetId()] = r
		order = append(order, r.GetId())
		if old, ok := w.last[r.GetId()]; !ok || !proto.Equal(old, r) {
			changed = append(changed, r)
		}
	}
	var removed []string
	for _, id := range w.order {
		if _, ok := next[id]; !ok {
			removed = append(removed, id)
		}
	}
	first := w.last == nil
	w.last, w.order, w.lastAt = next, order, time.Now()
	if first || len(changed)+len(removed) == 0 {
		return nil // nobody holds an older list (first) or nothing to say
	}
	fr := codec.NewFrame(&pb.ServerMessage{Payload: &pb.ServerMessage_RoomsChanged{RoomsChanged: &pb.RoomsChanged{
		Rooms: changed, Removed: removed}}})
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, m := range w.watchers {
		if !m.Send(fr) {
			delete(w.watchers, id)
		}
	}
	return nil
}

// read reads every page of the list, up to MaxRooms rooms.
func (w *Watcher) read(ctx context.Context) ([]*pb.Room, error) {
	var rooms []*pb.Room
	token := ""
	for {
		res, err := w.list(ctx, token)
		if err != nil {
			return nil, fmt.Errorf("list rooms: %w", err)
		}
		rooms = append(rooms, res.GetRooms()...)
		if token = res.GetNextPageToken(); token == "" || len(rooms) >= w.cfg.MaxRooms {
			if len(rooms) > w.cfg.MaxRooms {
				rooms = rooms[:w.cfg.MaxRooms]
			}
			return rooms, nil
		}
	}
}
