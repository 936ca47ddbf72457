package e2e

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"google.golang.org/protobuf/encoding/protowire"
)

func chat(text string) *pb.ClientMessage {
	return &pb.ClientMessage{Payload: &pb.ClientMessage_Chat{Chat: &pb.ChatSend{Text: text}}}
}

// TestRefusalsKeepTheConnectionOpen covers every limit answered with an
// error frame.
func TestRefusalsKeepTheConnectionOpen(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})

	// Invalid UTF-8 can only be sent in the binary format (JSON text
	// frames must be UTF-8); it is refused at decoding.
	var text []byte
	text = protowire.AppendTag(text, 1, protowire.BytesType)
	text = protowire.AppendBytes(text, []byte{'h', 0xff})
	var badUTF8 []byte
	badUTF8 = protowire.AppendTag(badUTF8, 13, protowire.BytesType)
	badUTF8 = protowire.AppendBytes(badUTF8, text)

	tests := []struct {
		name string
		send func(c *client) string
		code string
	}{
		{"chat over 512 characters", func(c *client) string { return c.send(chat(strings.Repeat("é", 513))) }, "INVALID_ARGUMENT"},
		{"chat not valid UTF-8", func(c *client) string { c.sendRaw(badUTF8); return "" }, "INVALID_ARGUMENT"},
		{"more than 300 note events", func(c *client) string { return c.send(notes(301)) }, "INVALID_ARGUMENT"},
		{"note out of range", func(c *client) string {
			m := notes(1)
			m.GetNotes().Events[0].Note = 128
			return c.send(m)
		}, "INVALID_ARGUMENT"},
		{"delay out of range", func(c *client) string {
			m := notes(1)
			m.GetNotes().Events[0].DelayMs = 1001
			return c.send(m)
		}, "INVALID_ARGUMENT"},
		{"empty message", func(c *client) string { return c.send(&pb.ClientMessage{}) }, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial(t, codec.Proto, "")
			c.join("limits", true)
			id := tt.send(c)
			m := c.await("error", 5*time.Second, func(m *pb.ServerMessage) bool { return m.GetError() != nil })
			if m.GetError().GetCode() != tt.code || m.GetId() != id {
				t.Fatalf("got %v, want error %s for id %q", m, tt.code, id)
			}
			c.quietFor(func(*pb.ServerMessage) bool { return false }) // still open
		})
	}

	t.Run("notes outside a room", func(t *testing.T) {
		c := e.dial(t, codec.JSON, "")
		if m := c.reply(c.send(notes(1))); m.GetError().GetCode() != "NOT_IN_ROOM" {
			t.Fatalf("got %v", m)
		}
	})
	t.Run("chat rate, end to end", func(t *testing.T) {
		owner := e.dial(t, codec.JSON, "")
		owner.join("rate", true)
		c := e.dial(t, codec.JSON, "")
		c.join("rate", false)
		var last *pb.ServerMessage
		for i := range 5 {
			last = c.reply(c.send(chat("line")))
			if i < 4 && last.GetAck() == nil {
				t.Fatalf("chat %d refused: %v", i, last)
			}
		}
		if last.GetError().GetCode() != "RATE_LIMITED" {
			t.Fatalf("5th chat in 6 s: %v", last)
		}
	})
	t.Run("joins 8 per second", func(t *testing.T) {
		c := e.dial(t, codec.JSON, "")
		var last *pb.ServerMessage
		start := time.Now()
		for range 9 {
			last = c.reply(c.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "lobby"}}}))
		}
		if time.Since(start) < time.Second && last.GetError().GetCode() != "RATE_LIMITED" {
			t.Fatalf("9th join in a second: %v", last)
		}
	})
	t.Run("only owner can play", func(t *testing.T) {
		owner := e.dial(t, codec.JSON, "")
		yes := true
		owner.reply(owner.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "solo", Create: true,
			Settings: &pb.RoomSettings{OnlyOwnerCanPlay: &yes}}}}))
		c := e.dial(t, codec.JSON, "")
		c.join("solo", false)
		if m := c.reply(c.send(notes(1))); m.GetError().GetCode() != "PERMISSION_DENIED" {
			t.Fatalf("got %v", m)
		}
	})
}

func TestCloseCodes(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{PingInterval: 100 * time.Millisecond, IdleTimeout: 400 * time.Millisecond})

	t.Run("frame over 64 KiB: 1009", func(t *testing.T) {
		c := e.dial(t, codec.JSON, "")
		c.sendRaw([]byte(`{"chat":{"text":"` + strings.Repeat("a", 65<<10) + `"}}`))
		if code := c.closeCode(5 * time.Second); code != websocket.StatusMessageTooBig {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("note flood: noteQuota then 4002", func(t *testing.T) {
		c := e.dial(t, codec.Proto, "")
		c.join("lobby", false)
		for range 10 {
			c.send(notes(300))
		}
		sawQuota := false
		for {
			m, err := c.tryRead(5 * time.Second)
			if err != nil {
				if code := websocket.CloseStatus(err); code != 4002 || !sawQuota {
					t.Fatalf("close %d (err %v), noteQuota seen %v", code, err, sawQuota)
				}
				return
			}
			if q := m.GetNoteQuota(); q != nil && q.GetMax() == 600 && q.GetAllowance() < 300 {
				sawQuota = true
			}
		}
	})
	t.Run("answering client: stays past many pings", func(t *testing.T) {
		c := e.dial(t, codec.JSON, "")
		c.listen() // reading answers the server's pings
		time.Sleep(1200 * time.Millisecond)
		if m := c.reply(c.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{ClientTime: 1}}})); m.GetPong() == nil {
			t.Fatalf("got %v", m)
		}
	})
	t.Run("silent client: 4004", func(t *testing.T) {
		c := e.dial(t, codec.JSON, "")
		// Not reading means not answering pings.
		time.Sleep(700 * time.Millisecond)
		if code := c.closeCode(10 * time.Second); code != 4004 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("account disconnect event: 4008", func(t *testing.T) {
		c := e.dial(t, codec.JSON, "")
		_, err := pb.NewStateServiceClient(w.state).PublishUserEvent(context.Background(), &pb.UserEvent{
			UserId: c.id(), Event: &pb.UserEvent_Disconnect{Disconnect: &pb.Disconnect{Code: 4008, Reason: "banned"}}})
		if err != nil {
			t.Fatal(err)
		}
		if code := c.closeCode(5 * time.Second); code != 4008 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("slow reader: 4003, the room is not slowed", func(t *testing.T) {
		// A short refill lets the owner send far more than the quota of
		// production, enough to fill the slow client's socket buffers.
		e := w.edge(connsvc.Config{SendQueueBytes: 64 << 10, SlowTimeout: 300 * time.Millisecond, QuotaRefill: 5 * time.Millisecond})
		owner := e.dial(t, codec.Proto, "")
		owner.join("slow", true)
		slow := e.dial(t, codec.JSON, "")
		slow.join("slow", false)
		fast := e.dial(t, codec.JSON, "")
		fast.join("slow", false)
		var heard atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				m, err := fast.tryRead(20 * time.Second)
				if err != nil {
					return
				}
				if isNotes(m) {
					heard.Add(1)
				}
			}
		}()
		sent := 0
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && len(e.svc.Connections("slow")) == 3 {
			owner.send(notes(300))
			sent++
			time.Sleep(5 * time.Millisecond)
		}
		if n := len(e.svc.Connections("slow")); n != 2 {
			t.Fatalf("%d connections in the room after %d batches, want the slow one gone", n, sent)
		}
		if code := slow.closeCode(10 * time.Second); code != 4003 {
			t.Fatalf("close code %d", code)
		}
		// The fast member heard (nearly) everything while the slow one
		// stalled.
		for i := 0; i < 100 && heard.Load() < int64(sent)*9/10; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if got := heard.Load(); got < int64(sent)*9/10 {
			t.Fatalf("fast member heard %d of %d batches", got, sent)
		}
		fast.ws.CloseNow()
		<-done
	})
	t.Run("server closing: 4000", func(t *testing.T) {
		e2 := w.edge(connsvc.Config{})
		c := e2.dial(t, codec.JSON, "")
		go e2.stop()
		if code := c.closeCode(10 * time.Second); code != 4000 {
			t.Fatalf("close code %d", code)
		}
	})
}
