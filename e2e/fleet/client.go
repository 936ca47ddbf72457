package fleet

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Subprotocol is the JSON wire format of DESIGN section 4: one protojson
// ClientMessage or ServerMessage per text frame.
const Subprotocol = "pianorhythm.v1.json"

// Frame is one server message with the time it was read.
type Frame struct {
	At  time.Time
	Msg *pb.ServerMessage
}

// Client is a WebSocket client of an edge speaking the JSON protocol. One
// goroutine reads every frame as it comes and keeps it with its arrival
// time; replies are matched to requests by id. Safe for concurrent use;
// Close stops the reader and waits for it.
type Client struct {
	ws      *websocket.Conn
	welcome *pb.Welcome
	seq     atomic.Int64

	mu      sync.Mutex
	frames  []Frame
	waiters map[string]chan Frame
	notify  chan struct{} // closed and replaced at every frame
	readErr error

	done chan struct{}
}

// Dial connects to an edge's /ws as a new guest and waits for the welcome.
func Dial(ctx context.Context, url string) (*Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{Subprotocol}})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	if ws.Subprotocol() != Subprotocol {
		ws.CloseNow()
		return nil, fmt.Errorf("dial %s: server chose subprotocol %q", url, ws.Subprotocol())
	}
	ws.SetReadLimit(4 << 20)
	c := &Client{ws: ws, waiters: map[string]chan Frame{}, notify: make(chan struct{}), done: make(chan struct{})}
	go c.read()
	f, err := c.Await(ctx, func(f Frame) bool { return f.Msg.GetWelcome() != nil })
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("welcome from %s: %w", url, err)
	}
	c.welcome = f.Msg.GetWelcome()
	return c, nil
}

// read keeps every frame until the connection ends.
func (c *Client) read() {
	defer close(c.done)
	for {
		_, b, err := c.ws.Read(context.Background())
		at := time.Now()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			close(c.notify)
			c.notify = make(chan struct{})
			c.mu.Unlock()
			return
		}
		m := new(pb.ServerMessage)
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
			m = &pb.ServerMessage{Payload: &pb.ServerMessage_Error{Error: &pb.Error{Code: "CLIENT_DECODE", Message: err.Error() + ": " + string(b)}}}
		}
		f := Frame{At: at, Msg: m}
		c.mu.Lock()
		c.frames = append(c.frames, f)
		if w, ok := c.waiters[m.GetId()]; ok && m.GetId() != "" {
			delete(c.waiters, m.GetId())
			w <- f
		}
		close(c.notify)
		c.notify = make(chan struct{})
		c.mu.Unlock()
	}
}

// Close closes the connection and waits for the reader.
func (c *Client) Close() {
	c.ws.Close(websocket.StatusNormalClosure, "bye")
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.ws.CloseNow()
		<-c.done
	}
}

// User is the client's user from the welcome.
func (c *Client) User() *pb.User { return c.welcome.GetUser() }

// ID is the client's user id.
func (c *Client) ID() string { return c.welcome.GetUser().GetId() }

// Closed returns the error that ended the connection, nil while it is open.
func (c *Client) Closed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Send writes m (notes and anything needing no reply).
func (c *Client) Send(ctx context.Context, m *pb.ClientMessage) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// Reply is the answer to one request.
type Reply struct {
	Sent, At time.Time
	// Msg is the reply frame (an ack, roomJoined, error, ...); nil when
	// none came in time (Err says why).
	Msg *pb.ServerMessage
	Err error
}

// Latency is the time from sending to the reply.
func (r Reply) Latency() time.Duration { return r.At.Sub(r.Sent) }

// Code is the error code of an error reply, "" otherwise.
func (r Reply) Code() string { return r.Msg.GetError().GetCode() }

// OK reports a reply that is not an error.
func (r Reply) OK() bool { return r.Msg != nil && r.Msg.GetError() == nil }

func (r Reply) String() string {
	switch {
	case r.Err != nil:
		return "no reply: " + r.Err.Error()
	case r.Msg.GetError() != nil:
		return fmt.Sprintf("error %s %q after %v", r.Code(), r.Msg.GetError().GetMessage(), r.Latency().Round(time.Millisecond))
	default:
		return fmt.Sprintf("ok after %v", r.Latency().Round(time.Millisecond))
	}
}

// Request sends m with a fresh id and waits up to timeout for the reply.
func (c *Client) Request(ctx context.Context, m *pb.ClientMessage, timeout time.Duration) Reply {
	m.Id = "r" + strconv.FormatInt(c.seq.Add(1), 10)
	w := make(chan Frame, 1)
	c.mu.Lock()
	c.waiters[m.Id] = w
	c.mu.Unlock()
	r := Reply{Sent: time.Now()}
	if err := c.Send(ctx, m); err != nil {
		r.Err, r.At = err, time.Now()
		return r
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case f := <-w:
		r.Msg, r.At = f.Msg, f.At
	case <-t.C:
		r.Err, r.At = fmt.Errorf("no reply to %s within %v", m.Id, timeout), time.Now()
	case <-c.done:
		r.Err, r.At = fmt.Errorf("connection closed: %w", c.Closed()), time.Now()
	}
	c.mu.Lock()
	delete(c.waiters, m.Id)
	c.mu.Unlock()
	return r
}

// Join joins (or with create, creates) a room.
func (c *Client) Join(ctx context.Context, room string, create bool) (*pb.RoomJoined, error) {
	r := c.Request(ctx, &pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: room, Create: create}}}, 10*time.Second)
	if !r.OK() {
		return nil, fmt.Errorf("join %s: %s", room, r)
	}
	if r.Msg.GetRoomJoined() == nil {
		return nil, fmt.Errorf("join %s: answered %v", room, r.Msg)
	}
	return r.Msg.GetRoomJoined(), nil
}

// Chat sends a chat line and waits up to timeout for its ack or error.
func (c *Client) Chat(ctx context.Context, text string, timeout time.Duration) Reply {
	return c.Request(ctx, &pb.ClientMessage{Payload: &pb.ClientMessage_Chat{Chat: &pb.ChatSend{Text: text}}}, timeout)
}

// Notes sends one note batch whose time field is stamp (the scenarios use
// it as the batch's sequence number, so every listener can tell which
// batches reached it).
func (c *Client) Notes(ctx context.Context, stamp int64) error {
	return c.Send(ctx, &pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: stamp, Events: []*pb.NoteEvent{
		{Kind: pb.NoteKind_NOTE_ON, Note: 60, Velocity: 90},
		{Kind: pb.NoteKind_NOTE_OFF, Note: 60, DelayMs: 20},
	}}}})
}

// Frames returns every frame read so far.
func (c *Client) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.frames...)
}

// Await waits for the first frame, from the start of the connection,
// that matches.
func (c *Client) Await(ctx context.Context, match func(Frame) bool) (Frame, error) {
	seen := 0
	for {
		c.mu.Lock()
		frames, notify, rerr := c.frames[seen:], c.notify, c.readErr
		seen = len(c.frames)
		c.mu.Unlock()
		for _, f := range frames {
			if match(f) {
				return f, nil
			}
		}
		if rerr != nil {
			return Frame{}, fmt.Errorf("connection closed: %w", rerr)
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		}
	}
}
