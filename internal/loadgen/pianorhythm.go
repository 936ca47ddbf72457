package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Subprotocols of PianoRhythm's /ws (the relay at bench/fanout/naive
// speaks the Proto one).
const (
	SubprotocolProto = "pianorhythm.v1.proto"
	SubprotocolJSON  = "pianorhythm.v1.json"
)

// WSDialer connects clients to a PianoRhythm /ws endpoint as guests, in
// the Proto or JSON subprotocol. A batch's stamp travels in notes.time
// (the relay forwards it untouched). Safe for concurrent use.
type WSDialer struct {
	// URL is the ws:// address of /ws.
	URL string
	// JSON selects the JSON subprotocol; false means Proto.
	JSON bool
	// Create asks for the room to be created if it does not exist.
	Create bool
	// Token is an access token (Authorization: Bearer); empty means a
	// guest.
	Token string
	// MaxPlayers is the capacity asked for when creating a room; zero
	// means the server's default.
	MaxPlayers int32
	// Timeout bounds one write and each step of the handshake; zero
	// means 10s.
	Timeout time.Duration

	mu         sync.Mutex
	transports map[string]*http.Client
	retries    atomic.Int64
}

// Retries is the number of joins answered UNAVAILABLE ("try again") and
// retried, since the dialer was made.
func (d *WSDialer) Retries() int64 { return d.retries.Load() }

// joinAttempts bounds the tries of one join answered UNAVAILABLE.
const joinAttempts = 10

var _ Dialer = (*WSDialer)(nil)

func (d *WSDialer) client(src string) *http.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.transports == nil {
		d.transports = make(map[string]*http.Client)
	}
	if c := d.transports[src]; c != nil {
		return c
	}
	nd := &net.Dialer{Timeout: 10 * time.Second}
	if src != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c := &http.Client{Transport: &http.Transport{DialContext: nd.DialContext, MaxIdleConnsPerHost: -1}}
	d.transports[src] = c
	return c
}

func (d *WSDialer) timeout() time.Duration {
	if d.Timeout <= 0 {
		return 10 * time.Second
	}
	return d.Timeout
}

// Dial implements Dialer.
func (d *WSDialer) Dial(ctx context.Context, src, room string, rec *Recorder) (Client, error) {
	sub := SubprotocolProto
	if d.JSON {
		sub = SubprotocolJSON
	}
	opts := &websocket.DialOptions{HTTPClient: d.client(src), Subprotocols: []string{sub}}
	if d.Token != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + d.Token}}
	}
	ws, resp, err := websocket.Dial(ctx, d.URL, opts)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.URL, err)
	}
	ws.SetReadLimit(1 << 22)
	c := &wsClient{d: d, ws: ws, rec: rec, done: make(chan struct{})}
	if err := c.join(ctx, room); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

type wsClient struct {
	d    *WSDialer
	ws   *websocket.Conn
	rec  *Recorder
	done chan struct{}
	buf  []byte
	ev   []*pb.NoteEvent
}

func (c *wsClient) typ() websocket.MessageType {
	if c.d.JSON {
		return websocket.MessageText
	}
	return websocket.MessageBinary
}

func (c *wsClient) encode(m *pb.ClientMessage) ([]byte, error) {
	if c.d.JSON {
		return protojson.Marshal(m)
	}
	return proto.MarshalOptions{}.MarshalAppend(c.buf[:0], m)
}

func (c *wsClient) decode(b []byte, m *pb.ServerMessage) error {
	if c.d.JSON {
		return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, m)
	}
	return proto.Unmarshal(b, m)
}

func (c *wsClient) send(ctx context.Context, m *pb.ClientMessage) error {
	b, err := c.encode(m)
	if err != nil {
		return err
	}
	c.buf = b
	ctx, cancel := context.WithTimeout(ctx, c.d.timeout())
	defer cancel()
	return c.ws.Write(ctx, c.typ(), b)
}

// join waits for the welcome, joins room and waits for the answer.
func (c *wsClient) join(ctx context.Context, room string) error {
	ctx, cancel := context.WithTimeout(ctx, c.d.timeout())
	defer cancel()
	j := &pb.Join{Room: room, Create: c.d.Create}
	if c.d.MaxPlayers > 0 {
		j.Settings = &pb.RoomSettings{MaxPlayers: &c.d.MaxPlayers}
	}
	for attempt := 1; ; attempt++ {
		err := c.joinOnce(ctx, j)
		if err == nil || !errors.Is(err, errTryAgain) || attempt == joinAttempts {
			return err
		}
		c.d.retries.Add(1)
		select {
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// errTryAgain marks a join refused as UNAVAILABLE, which a client retries.
var errTryAgain = errors.New("try again")

func (c *wsClient) joinOnce(ctx context.Context, j *pb.Join) error {
	room := j.GetRoom()
	if err := c.send(ctx, &pb.ClientMessage{Id: "join", Payload: &pb.ClientMessage_Join{Join: j}}); err != nil {
		return fmt.Errorf("send join: %w", err)
	}
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return fmt.Errorf("join %s: %w", room, err)
		}
		var m pb.ServerMessage
		if err := c.decode(b, &m); err != nil {
			return fmt.Errorf("join %s: %w", room, err)
		}
		if m.GetId() != "join" {
			continue
		}
		if e := m.GetError(); e != nil {
			if e.GetCode() == pb.ErrorReason_UNAVAILABLE.String() {
				return fmt.Errorf("join %s: %s: %w", room, e.GetMessage(), errTryAgain)
			}
			return fmt.Errorf("join %s: %s: %s", room, e.GetCode(), e.GetMessage())
		}
		if m.GetRoomJoined() != nil {
			return nil
		}
	}
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	var m pb.ServerMessage
	for {
		_, b, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		m.Reset()
		if c.decode(b, &m) != nil {
			continue
		}
		if n := m.GetNotes(); n != nil {
			c.rec.Heard(n.GetTime())
		}
	}
}

// Play implements Client.
func (c *wsClient) Play(ctx context.Context, stamp int64, n int) error {
	if cap(c.ev) < n {
		c.ev = make([]*pb.NoteEvent, n)
		for i := range c.ev {
			kind := pb.NoteKind_NOTE_ON
			if i%2 == 1 {
				kind = pb.NoteKind_NOTE_OFF
			}
			c.ev[i] = &pb.NoteEvent{Kind: kind, Note: uint32(60 + i%12), Velocity: 90, DelayMs: uint32(i)}
		}
	}
	return c.send(ctx, &pb.ClientMessage{Payload: &pb.ClientMessage_Notes{Notes: &pb.NoteBatch{Time: stamp, Events: c.ev[:n]}}})
}

// Close implements Client.
func (c *wsClient) Close() error {
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	<-c.done
	if err != nil && websocket.CloseStatus(err) == -1 && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
