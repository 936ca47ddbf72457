package mpp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// wire records what a session pushes, as the client would read it.
type wire struct {
	mu     sync.Mutex
	frames [][]byte
}

func (w *wire) push(b []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.frames = append(w.frames, append([]byte(nil), b...))
	return true
}

// take returns every message pushed since the last take, parsed by the
// independent client.
func (w *wire) take(t *testing.T) []mpptest.Received {
	t.Helper()
	w.mu.Lock()
	frames := w.frames
	w.frames = nil
	w.mu.Unlock()
	var out []mpptest.Received
	for _, f := range frames {
		msgs, err := mpptest.Parse(f)
		if err != nil {
			t.Fatalf("server frame the client cannot read: %v", err)
		}
		out = append(out, msgs...)
	}
	return out
}

// only returns the single message pushed since the last take, decoded.
func (w *wire) only(t *testing.T, m string, v any) {
	t.Helper()
	got := w.take(t)
	if len(got) != 1 || got[0].M != m {
		t.Fatalf("want one %q, got %s", m, names(got))
	}
	if v != nil {
		if err := got[0].Decode(v); err != nil {
			t.Fatal(err)
		}
	}
}

func names(rs []mpptest.Received) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.M + " " + string(r.Raw)
	}
	return out
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var t0 = time.UnixMilli(1_764_230_400_000)

var (
	ann = &pb.User{Id: "u-ann", DisplayName: "Ann", Color: "#ff8ff9"}
	bob = &pb.User{Id: "u-bob", DisplayName: "Bob", Color: "#2524a5"}
	cat = &pb.User{Id: "u-cat", DisplayName: "Cat", Color: "#e51c8d", Roles: []pb.Role{pb.Role_MEMBER, pb.Role_MODERATOR}}
)

// newSession is a session of user self whose client has said hi and whose
// welcome has gone through; what that pushed is taken.
func newSession(t *testing.T, self *pb.User) (*mpp.Session, *wire, *clock) {
	t.Helper()
	w := &wire{}
	clk := &clock{now: t0}
	s := mpp.NewSession(mpp.Config{Now: clk.Now}, w.push)
	s.Deliver(welcome(self, ""), nil)
	if _, err := s.Decode(websocket.MessageText, mpptest.Frame(mpptest.Hi{})); err != nil {
		t.Fatal(err)
	}
	w.only(t, "hi", nil)
	return s, w, clk
}

func welcome(u *pb.User, token string) *pb.ServerMessage {
	return &pb.ServerMessage{Payload: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{
		User: u, ConnectionId: "c1", ServerTime: t0.UnixMilli(), Token: token}}}
}

func member(u *pb.User) *pb.Member { return &pb.Member{User: u, JoinedAt: timestamppb.New(t0)} }

func room(id, owner string) *pb.Room {
	return &pb.Room{Id: id, OwnerId: owner, MemberCount: 2, Settings: &pb.RoomSettings{Public: proto.Bool(true)}}
}

func joinedMsg(r *pb.Room, members ...*pb.User) *pb.ServerMessage {
	rj := &pb.RoomJoined{Room: r}
	for _, u := range members {
		rj.Members = append(rj.Members, member(u))
	}
	return &pb.ServerMessage{Id: "ch", Payload: &pb.ServerMessage_RoomJoined{RoomJoined: rj}}
}

// inRoom is a session of self that has joined r with members.
func inRoom(t *testing.T, self *pb.User, r *pb.Room, members ...*pb.User) (*mpp.Session, *wire, *clock) {
	t.Helper()
	s, w, clk := newSession(t, self)
	s.Deliver(joinedMsg(r, members...), nil)
	w.take(t)
	return s, w, clk
}

// deliver sends m the way the edge does for a room broadcast: the shared
// encoding computed once, then the session.
func deliver(t *testing.T, s *mpp.Session, m *pb.ServerMessage) {
	t.Helper()
	shared, err := mpp.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	s.Deliver(m, shared)
}
