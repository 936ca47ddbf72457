package e2e

import (
	"math"
	"slices"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/protobuf/proto"
)

func cursor(x, y float64) *pb.ClientMessage {
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Cursor{Cursor: &pb.Cursor{X: x, Y: y}}}
}

func isCursor(m *pb.ServerMessage) bool { return m.GetCursor() != nil }

// TestCursorsAreRelayedToTheRoom: a cursor position reaches the other
// members of the room, on this instance and another, with the sender's id,
// not the sender itself and nobody outside the room; bad ones are refused.
func TestCursorsAreRelayedToTheRoom(t *testing.T) {
	w := newWorld(t)
	e1, e2 := w.edge(connsvc.Config{}), w.edge(connsvc.Config{})
	a := e1.dial(t, codec.JSON, "")
	near := e1.dial(t, codec.Proto, "")
	far := e2.dial(t, codec.JSON, "")
	out := e1.dial(t, codec.JSON, "")
	a.join("pointers", true)
	near.join("pointers", false)
	far.join("pointers", false)
	out.join("elsewhere", true)

	a.send(cursor(12.5, 80))
	for _, c := range []*client{near, far} {
		got := c.await("cursor", 5*time.Second, isCursor).GetCursor()
		if got.GetUserId() != a.id() || got.GetX() != 12.5 || got.GetY() != 80 {
			t.Fatalf("cursor %v, want a's 12.5/80", got)
		}
	}
	a.quietFor(isCursor)
	out.quietFor(isCursor)

	t.Run("refused", func(t *testing.T) {
		if m := out.reply(out.send(cursor(math.NaN(), 1))); m.GetError().GetCode() != "INVALID_ARGUMENT" {
			t.Fatalf("NaN cursor: %v", m)
		}
		lost := e1.dial(t, codec.JSON, "")
		if m := lost.reply(lost.send(cursor(1, 1))); m.GetError().GetCode() != "NOT_IN_ROOM" {
			t.Fatalf("cursor outside a room: %v", m)
		}
	})
}

// TestCursorRateIsLimited: a flood of positions is cut to the burst (and
// what the rate refills meanwhile); the rest are dropped without a reply,
// and the sender's notes still go through.
func TestCursorRateIsLimited(t *testing.T) {
	w := newWorld(t)
	const burst = 5
	e := w.edge(connsvc.Config{CursorsPerSecond: 1, CursorBurst: burst})
	a := e.dial(t, codec.JSON, "")
	b := e.dial(t, codec.JSON, "")
	a.join("flood", true)
	b.join("flood", false)

	start := time.Now()
	for i := range 40 {
		a.send(cursor(float64(i), 0))
	}
	a.send(notes(1)) // behind the cursors on the same path
	n := 0
	b.await("notes", 10*time.Second, func(m *pb.ServerMessage) bool {
		if isCursor(m) {
			n++
		}
		return isNotes(m)
	})
	refilled := int(time.Since(start).Seconds()) + 1
	if n < burst || n > burst+refilled {
		t.Fatalf("%d of 40 cursors relayed, want the burst of %d (+%d refilled)", n, burst, refilled)
	}
	// Dropped positions are not answered: nothing but the pong.
	a.quietFor(func(m *pb.ServerMessage) bool { return m.GetError() != nil })
}

// TestWatchRoomsFollowsTheList: watching answers the whole list, then
// tells what changed (a new room, a member count, a room no longer
// listed) until the watch ends.
func TestWatchRoomsFollowsTheList(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{RoomListInterval: 100 * time.Millisecond})
	watcher := e.dial(t, codec.JSON, "")
	id := watcher.send(&pb.ClientMessage{Payload: &pb.ClientMessage_WatchRooms{WatchRooms: &pb.WatchRooms{Watch: true}}})
	list := watcher.reply(id).GetRoomList()
	if !slices.ContainsFunc(list.GetRooms(), func(r *pb.Room) bool { return r.GetId() == "lobby" }) {
		t.Fatalf("first answer %v, want the room list with the lobby", list)
	}

	owner := e.dial(t, codec.JSON, "")
	owner.join("fresh", true)
	changed := func(what string, match func(*pb.RoomsChanged) bool) {
		t.Helper()
		watcher.await(what, 10*time.Second, func(m *pb.ServerMessage) bool {
			return m.GetRoomsChanged() != nil && match(m.GetRoomsChanged())
		})
	}
	room := func(ch *pb.RoomsChanged, id string) *pb.Room {
		for _, r := range ch.GetRooms() {
			if r.GetId() == id {
				return r
			}
		}
		return nil
	}
	changed("a new room", func(ch *pb.RoomsChanged) bool { return room(ch, "fresh").GetMemberCount() == 1 })
	guest := e.dial(t, codec.JSON, "")
	guest.join("fresh", false)
	changed("a member more", func(ch *pb.RoomsChanged) bool { return room(ch, "fresh").GetMemberCount() == 2 })
	private := false
	if m := owner.reply(owner.send(&pb.ClientMessage{Payload: &pb.ClientMessage_RoomSettings{RoomSettings: &pb.RoomSettingsChange{
		Settings: &pb.RoomSettings{Public: proto.Bool(private)}}}})); m.GetRoomUpdated() == nil {
		t.Fatalf("make private: %v", m)
	}
	changed("the room unlisted", func(ch *pb.RoomsChanged) bool { return slices.Contains(ch.GetRemoved(), "fresh") })

	stop := watcher.send(&pb.ClientMessage{Payload: &pb.ClientMessage_WatchRooms{WatchRooms: &pb.WatchRooms{}}})
	if m := watcher.reply(stop); m.GetAck() == nil {
		t.Fatalf("end of watch: %v", m)
	}
	other := e.dial(t, codec.JSON, "")
	other.join("later", true)
	time.Sleep(500 * time.Millisecond) // five polls' worth
	watcher.quietFor(func(m *pb.ServerMessage) bool { return m.GetRoomsChanged() != nil })
}

// TestUnbanLiftsARoomBan: the owner bans a guest, who cannot come back,
// then lifts the ban; the guest can. Nobody else may lift it.
func TestUnbanLiftsARoomBan(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	owner := e.dial(t, codec.JSON, "")
	guest := e.dial(t, codec.JSON, "")
	bystander := e.dial(t, codec.JSON, "")
	owner.join("strict", true)
	guest.join("strict", false)
	bystander.join("strict", false)
	kick := owner.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Kick{Kick: &pb.Kick{UserId: guest.id(), BanSeconds: 3600}}})
	if m := owner.reply(kick); m.GetAck() == nil {
		t.Fatalf("ban: %v", m)
	}
	guest.await("kicked", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetKicked() != nil })
	joinStrict := &pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "strict"}}}
	if m := guest.reply(guest.send(proto.CloneOf(joinStrict))); m.GetError().GetCode() != "BANNED" {
		t.Fatalf("rejoin while banned: %v", m)
	}
	unban := func(c *client) *pb.ServerMessage {
		return c.reply(c.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Unban{Unban: &pb.Unban{UserId: guest.id()}}}))
	}
	if m := unban(bystander); m.GetError().GetCode() != "PERMISSION_DENIED" {
		t.Fatalf("a member lifted a ban: %v", m)
	}
	if m := unban(guest); m.GetError().GetCode() != "NOT_IN_ROOM" {
		t.Fatalf("unban outside a room: %v", m)
	}
	if m := unban(owner); m.GetAck() == nil {
		t.Fatalf("owner's unban: %v", m)
	}
	guest.join("strict", false)
}
