package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
)

// TestMPPTwoClientsInOneChannel: two MPP clients in one channel (a name
// that is no room id of ours) see each other arrive, hear each other's
// notes with the sender's id, chat, sync time and see each other leave.
func TestMPPTwoClientsInOneChannel(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	ann, bob := e.dialMPP(t, ""), e.dialMPP(t, "")
	if ann.id() == bob.id() || ann.hi.Token == "" || ann.hi.U.Name == "" || ann.hi.U.Color == "" {
		t.Fatalf("guests' hi: %+v / %+v", ann.hi, bob.hi)
	}
	const channel = "✧ MPP Jam ✧"
	if ch := ann.join(channel); ch.Ch.Name != channel || len(ch.Ppl) != 1 || ch.Ppl[0].ID != ann.id() {
		t.Fatalf("ann's ch: %+v", ch)
	}
	ch := bob.join(channel)
	if ch.Ch.Name != channel || len(ch.Ppl) != 2 {
		t.Fatalf("bob's ch: %+v", ch)
	}
	var p mpptest.Participant
	ann.until("p", func(r mpptest.Received) bool { return r.Decode(&p) == nil && p.ID == bob.id() })
	if p.UserID != bob.id() || p.Name != bob.hi.U.Name {
		t.Fatalf("bob's arrival as ann sees it: %+v", p)
	}

	// Notes, both ways, with the sender's participant id.
	now := float64(time.Now().UnixMilli())
	ann.send(mpptest.Notes{T: now, N: []mpptest.Note{key("c3", 0.5), {N: "e3", V: mpptest.Float(1), D: 50}, mpptest.Stop("c3")}})
	var n mpptest.NotesFrom
	bob.expect("n", &n)
	if n.P != ann.id() || n.T != now || len(n.N) != 3 || n.N[0].N != "c3" || n.N[1].N != "e3" || n.N[1].D != 50 || n.N[2].S != 1 {
		t.Fatalf("bob heard %+v", n)
	}
	bob.send(mpptest.Notes{T: now, N: []mpptest.Note{key("a-1", 0.2)}})
	ann.until("n", func(r mpptest.Received) bool { return r.Decode(&n) == nil && n.P == bob.id() && n.N[0].N == "a-1" })
	ann.sync(func(r mpptest.Received) bool { // nobody hears their own notes
		var own mpptest.NotesFrom
		return r.M == "n" && r.Decode(&own) == nil && own.P == ann.id()
	})

	// Chat.
	ann.send(mpptest.Say{Message: "hello from ann"})
	for _, c := range []*mppClient{ann, bob} {
		var a mpptest.Chat
		c.until("a", func(r mpptest.Received) bool { return r.Decode(&a) == nil && a.A == "hello from ann" })
		if a.P.ID != ann.id() || a.P.Name != ann.hi.U.Name || a.T == 0 {
			t.Fatalf("chat as %s sees it: %+v", c.id(), a)
		}
	}

	// Time sync: t echoes e (rounded down to the ms) with the server time.
	e0 := 1234.7
	before := time.Now().UnixMilli()
	bob.send(mpptest.Ping{E: &e0})
	var pong mpptest.Pong
	bob.until("t", func(r mpptest.Received) bool { return r.Decode(&pong) == nil && pong.E != nil && *pong.E == 1234 })
	if int64(pong.T) < before || int64(pong.T) > time.Now().UnixMilli() {
		t.Fatalf("server time %v not between %d and now", pong.T, before)
	}

	// Leaving: bye closes bob's socket normally and ann sees him go.
	bob.send(mpptest.Bye{})
	if code := bob.closeCode(); code != websocket.StatusNormalClosure {
		t.Fatalf("bye: close %d", code)
	}
	var bye mpptest.Left
	ann.until("bye", func(r mpptest.Received) bool { return r.Decode(&bye) == nil && bye.P == bob.id() })
}

// TestMPPAndWSShareARoom: an MPP client and a /ws client in one room hear
// each other's notes (MPP keys and 0-1 velocities as MIDI numbers and
// 0-127), see each other's chat and presence.
func TestMPPAndWSShareARoom(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	m := e.dialMPP(t, "")
	m.join("mixed")
	ws := e.dial(t, codec.JSON, "")
	joined := ws.join("mixed", false)
	if len(joined.GetMembers()) != 2 {
		t.Fatalf("the /ws client sees %d members", len(joined.GetMembers()))
	}
	var p mpptest.Participant
	m.until("p", func(r mpptest.Received) bool { return r.Decode(&p) == nil && p.ID == ws.id() })
	if p.Name != ws.welcome.GetUser().GetDisplayName() {
		t.Fatalf("the /ws client as MPP sees it: %+v", p)
	}

	// MPP to /ws.
	m.send(mpptest.Notes{T: float64(time.Now().UnixMilli()), N: []mpptest.Note{key("c3", 0.5), mpptest.Stop("a-1")}})
	got := ws.await("notes", 5*time.Second, isNotes).GetNotes()
	evs := got.GetEvents()
	if got.GetUserId() != m.id() || len(evs) != 2 || evs[0].GetNote() != 60 || evs[0].GetVelocity() != 64 ||
		evs[0].GetKind() != pb.NoteKind_NOTE_ON || evs[1].GetNote() != 21 || evs[1].GetKind() != pb.NoteKind_NOTE_OFF {
		t.Fatalf("the /ws client heard %v", got)
	}
	// /ws to MPP.
	ws.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: time.Now().UnixMilli(), Events: []*pb.NoteEvent{
		{Kind: pb.NoteKind_NOTE_ON, Note: 108, Velocity: 127}, {Kind: pb.NoteKind_SUSTAIN_ON}}}}})
	var n mpptest.NotesFrom
	m.expect("n", &n)
	if n.P != ws.id() || len(n.N) != 1 || n.N[0].N != "c7" || n.N[0].V == nil || *n.N[0].V != 1 {
		t.Fatalf("MPP heard %+v (the pedal has no MPP form)", n)
	}

	// Chat both ways.
	m.send(mpptest.Say{Message: "from mpp"})
	if c := ws.await("chat", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetChat() != nil }).GetChat().GetMessage(); c.GetText() != "from mpp" || c.GetUserId() != m.id() {
		t.Fatalf("the /ws client's chat: %v", c)
	}
	ws.send(chat("from ws"))
	var a mpptest.Chat
	m.until("a", func(r mpptest.Received) bool { return r.Decode(&a) == nil && a.A == "from ws" })
	if a.P.ID != ws.id() {
		t.Fatalf("MPP's chat: %+v", a)
	}

	// Presence: each sees the other leave.
	ws.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Leave{Leave: &pb.Leave{}}})
	var bye mpptest.Left
	m.until("bye", func(r mpptest.Received) bool { return r.Decode(&bye) == nil && bye.P == ws.id() })
	ws.join("mixed", false)
	m.until("p", func(r mpptest.Received) bool { return r.Decode(&p) == nil && p.ID == ws.id() })
	m.send(mpptest.Bye{})
	if code := m.closeCode(); code != websocket.StatusNormalClosure {
		t.Fatalf("bye: close %d", code)
	}
	left := ws.await("userLeft", 5*time.Second, func(x *pb.ServerMessage) bool { return x.GetUserLeft() != nil }).GetUserLeft()
	if left.GetUserId() != m.id() {
		t.Fatalf("userLeft %v", left)
	}
}

// TestMPPNoteFloodIsLimited: an MPP client over the note quota gets nq
// (MPP's quota message), and one that keeps flooding is closed with 4002,
// as anyone.
func TestMPPNoteFloodIsLimited(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	m := e.dialMPP(t, "")
	m.join("lobby")
	var nq mpptest.Quota
	m.expect("nq", &nq)
	if nq.Max != 600 || nq.Allowance != 200 {
		t.Fatalf("lobby quota as MPP sees it: %+v, want 200 every 2 s up to 600", nq)
	}
	keys := mpptest.Keys()
	batch := make([]mpptest.Note, 300)
	for i := range batch {
		batch[i] = key(keys[i%88], 0.7)
	}
	for range 10 {
		m.send(mpptest.Notes{T: float64(time.Now().UnixMilli()), N: batch})
	}
	sawQuota := false
	ctx := m.ctx()
	for {
		r, err := m.c.Next(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != 4002 || !sawQuota {
				t.Fatalf("close %d (%v), nq seen %v", code, err, sawQuota)
			}
			return
		}
		sawQuota = sawQuota || r.M == "nq"
	}
}

// TestMPPBadFramesLoseNothing: every kind of bad frame is answered with a
// notification saying what is wrong, the good messages of a frame still go
// through, and the socket stays usable; only a frame over 64 KiB closes it
// (1009).
func TestMPPBadFramesLoseNothing(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})

	t.Run("before hi", func(t *testing.T) {
		m := e.dialMPPRaw(t, "")
		m.send(mpptest.Join{ID: "lobby"})
		var n mpptest.Notification
		m.expect("notification", &n)
		if !strings.Contains(n.Text, "hi") {
			t.Fatalf("notification %+v, want it to ask for hi", n)
		}
		m.send(mpptest.Hi{})
		m.expect("hi", &m.hi)
		m.join("lobby")
	})

	m := e.dialMPP(t, "")
	m.join("bad-frames")
	tests := []struct {
		name string
		typ  websocket.MessageType
		data string
		want string // in the notification's text
	}{
		{"not JSON", websocket.MessageText, `[{"m":"a",`, "JSON"},
		{"not an array", websocket.MessageText, `{"m":"t"}`, "array"},
		{"binary", websocket.MessageBinary, "\x01\x02", "binary"},
		{"unknown message", websocket.MessageText, `[{"m":"fly"}]`, "unknown"},
		{"wrong field type", websocket.MessageText, `[{"m":"a","message":5}]`, "message"},
		{"unknown key", websocket.MessageText, `[{"m":"n","t":1,"n":[{"n":"h9"}]}]`, "n"},
		{"chat too long", websocket.MessageText, `[{"m":"a","message":"` + strings.Repeat("x", 513) + `"}]`, "512"},
		{"direct message", websocket.MessageText, `[{"m":"dm","_id":"x","message":"hi"}]`, "direct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.sendRaw(tt.typ, []byte(tt.data))
			var n mpptest.Notification
			m.expect("notification", &n)
			if !strings.Contains(n.Text, tt.want) {
				t.Fatalf("notification %+v, want it to mention %q", n, tt.want)
			}
			m.sync(isMPP("notification")) // still open, nothing more to say
		})
	}
	t.Run("good messages beside a bad one", func(t *testing.T) {
		e := 77.0
		m.sendRaw(websocket.MessageText, mpptest.Frame(mpptest.Say{Message: "still here"}, mpptest.Custom{Data: 1}, mpptest.Ping{E: &e}))
		// The refusal first (the frame's own answer), then the chat and the
		// time in either order (the pong is answered at once, the chat
		// comes back from the room).
		var n mpptest.Notification
		m.expect("notification", &n)
		if !strings.Contains(n.Text, "custom") {
			t.Fatalf("notification %+v", n)
		}
		chatted, synced := false, false
		for !chatted || !synced {
			r, err := m.c.Next(m.ctx())
			if err != nil {
				t.Fatalf("chat %v, time %v: %v", chatted, synced, err)
			}
			var a mpptest.Chat
			var p mpptest.Pong
			chatted = chatted || r.M == "a" && r.Decode(&a) == nil && a.A == "still here"
			synced = synced || r.M == "t" && r.Decode(&p) == nil && p.E != nil && *p.E == 77
		}
	})
	t.Run("refused by the edge: a notification, not an error", func(t *testing.T) {
		lost := e.dialMPP(t, "")
		lost.send(mpptest.Say{Message: "anyone?"})
		var n mpptest.Notification
		lost.expect("notification", &n)
		if n.Title != "Not in a channel" || !strings.Contains(n.Text, "Could not send the message") {
			t.Fatalf("notification %+v", n)
		}
		lost.join("lobby")
	})
	t.Run("over 64 KiB: 1009", func(t *testing.T) {
		big := e.dialMPP(t, "")
		big.sendRaw(websocket.MessageText, []byte(`[{"m":"a","message":"`+strings.Repeat("a", 65<<10)+`"}]`))
		if code := big.closeCode(); code != websocket.StatusMessageTooBig {
			t.Fatalf("close %d", code)
		}
	})
}

// TestMPPSignsInWithAToken: a token in hi (or, without one, in the
// address) signs the client in as its account; a hi token the server does
// not accept leaves the client a guest, told so; a bad address token is a
// 401 as on /ws.
func TestMPPSignsInWithAToken(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acct, err := pb.NewUserServiceClient(w.user).Register(ctx, &pb.RegisterRequest{Username: "mpp_player", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	id := acct.GetUser().GetId()

	m := e.dialMPP(t, acct.GetAccessToken())
	if m.id() != id || m.hi.U.Name != "mpp_player" || m.hi.Token != "" {
		t.Fatalf("hi with the account's token: %+v", m.hi)
	}

	q := e.dialMPPRaw(t, "token="+acct.GetAccessToken())
	q.expect("b", nil)
	q.send(mpptest.Hi{})
	q.expect("hi", &q.hi)
	if q.id() != id {
		t.Fatalf("hi after ?token=: %+v", q.hi)
	}

	g := e.dialMPPRaw(t, "")
	g.expect("b", nil)
	g.send(mpptest.Hi{Token: "not-a-token"})
	var n mpptest.Notification
	g.expect("notification", &n)
	g.expect("hi", &g.hi)
	if !strings.Contains(n.Text, "not accepted") || g.id() == "" || g.id() == id || g.hi.Token == "" {
		t.Fatalf("a bad hi token: notification %+v, hi %+v (want a guest, told so)", n, g.hi)
	}

	if _, res, err := mpptest.Dial(ctx, e.mppURL("token=not-a-token"), nil); err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("bad ?token=: %v %v, want 401", res, err)
	}
}

// TestMPPCursorsAreRelayedAndLimited: m positions reach the channel's MPP
// clients as m with the sender's id, and our own clients as cursor; a
// flood is cut to the burst.
func TestMPPCursorsAreRelayedAndLimited(t *testing.T) {
	w := newWorld(t)
	const burst = 5
	e := w.edge(connsvc.Config{CursorsPerSecond: 1, CursorBurst: burst})
	a, b := e.dialMPP(t, ""), e.dialMPP(t, "")
	a.join("pointers")
	b.join("pointers")
	ws := e.dial(t, codec.JSON, "")
	ws.join("pointers", false)

	a.send(mpptest.Move{X: "50.30", Y: 20})
	var cur mpptest.Cursor
	b.until("m", func(r mpptest.Received) bool { return r.Decode(&cur) == nil && cur.ID == a.id() })
	if cur.X != 50.3 || cur.Y != 20 {
		t.Fatalf("cursor %+v", cur)
	}
	if c := ws.await("cursor", 5*time.Second, isCursor).GetCursor(); c.GetUserId() != a.id() || c.GetX() != 50.3 {
		t.Fatalf("the /ws client's cursor: %v", c)
	}
	// Our client's cursor reaches MPP.
	ws.send(cursor(10, 90))
	b.until("m", func(r mpptest.Received) bool { return r.Decode(&cur) == nil && cur.ID == ws.id() && cur.Y == 90 })

	// A flood: the burst (less the one above, plus what refilled) and no
	// more; no notification for the dropped ones.
	start := time.Now()
	for i := range 40 {
		a.send(mpptest.Move{X: float64(i), Y: 1})
	}
	a.send(mpptest.Notes{T: float64(time.Now().UnixMilli()), N: []mpptest.Note{key("c3", 0.5)}}) // behind the moves
	n := count(b.collect("n"), "m")
	refilled := int(time.Since(start).Seconds()) + 1
	if n < burst-1 || n > burst+refilled {
		t.Fatalf("%d of 40 cursors relayed, want the burst of %d less the one before (+%d refilled)", n, burst, refilled)
	}
	a.sync(isMPP("notification"))
}

// TestMPPKickedClientLandsInTheLobby: MPP clients expect to be in a
// channel, so a kicked one is told and put in the lobby.
func TestMPPKickedClientLandsInTheLobby(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	owner := e.dial(t, codec.JSON, "")
	owner.join("house", true)
	m := e.dialMPP(t, "")
	m.join("house")
	if rep := owner.reply(owner.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Kick{Kick: &pb.Kick{UserId: m.id(), BanSeconds: 60}}})); rep.GetAck() == nil {
		t.Fatalf("kick: %v", rep)
	}
	var n mpptest.Notification
	m.expect("notification", &n)
	if !strings.Contains(n.Text, "banned") {
		t.Fatalf("notification %+v", n)
	}
	var ch mpptest.ChannelState
	m.until("ch", func(r mpptest.Received) bool { return r.Decode(&ch) == nil && ch.P == m.id() })
	if ch.Ch.Name != "lobby" {
		t.Fatalf("after the kick: %+v", ch.Ch)
	}
	// Banned from the room: going back is refused with a notification.
	m.send(mpptest.Join{ID: "house"})
	m.expect("notification", &n)
	if !strings.Contains(n.Text, "Could not join") {
		t.Fatalf("rejoin while banned: %+v", n)
	}
}

// TestMPPChannelList: +ls answers the whole list (c: true), then updates
// while subscribed.
func TestMPPChannelList(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{RoomListInterval: 100 * time.Millisecond})
	m := e.dialMPP(t, "")
	m.send(mpptest.ListOn{})
	var ls mpptest.List
	m.expect("ls", &ls)
	if !ls.C || len(ls.U) == 0 {
		t.Fatalf("+ls answered %+v", ls)
	}
	other := e.dialMPP(t, "")
	other.join("Listed Channel")
	m.until("ls", func(r mpptest.Received) bool {
		if r.Decode(&ls) != nil || ls.C {
			return false
		}
		for _, c := range ls.U {
			if c.Name == "Listed Channel" && c.Count == 1 {
				return true
			}
		}
		return false
	})
	m.send(mpptest.ListOff{})
	other.send(mpptest.Join{ID: "Another Channel"})
	time.Sleep(500 * time.Millisecond)
	m.sync(isMPP("ls"))
}
