package edge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/pianorhythm/server/services/connection/internal/quota"
	"github.com/pianorhythm/server/services/connection/internal/sendq"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// conn is one WebSocket connection. Its state (below the line) is owned by
// its actor (connActor, Kind "connection") while the actor runs, and by the
// HTTP handler's goroutine (run) once the actor has stopped. Three more
// goroutines serve it: the reader (decodes frames and Tells the actor
// MessageReceived), the writer (drains the send queue, coalescing what is
// queued into one pass) and the keepalive (pings). run starts them and
// waits for all of them.
type conn struct {
	srv       *Server
	id        string
	ws        *websocket.Conn
	format    codec.Format
	remote    string
	connected time.Time
	q         *sendq.Queue
	ref       *actor.Ref
	// inflight bounds the client messages queued in the actor's mailbox:
	// the reader takes a token per message, the actor returns it. A
	// client that sends faster than it is served is slowed down by TCP,
	// and its messages never crowd events out of the mailbox.
	inflight chan struct{}

	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	reason    closecode.Error // set once by fail, read after ctx is done

	// roomNow and nameNow mirror roomID and ident.DisplayName for readers
	// outside the actor (admin listing).
	roomNow atomic.Pointer[string]
	nameNow atomic.Pointer[string]

	// Owned by the actor (ident.UserID never changes: anyone may read it).
	ident      auth.Identity
	user       *pb.User
	guestToken string
	roomID     string
	room       *pb.Room
	quota      *quota.Quota
	joins      []time.Time
	started    bool
}

var _ fanout.Member = (*conn)(nil)

// Mailbox sizes of a connection actor: events (room state changes, user
// events, admin messages) plus the client messages in flight.
const (
	connEvents   = 256
	connInflight = 16
)

func newConn(s *Server, ws *websocket.Conn, format codec.Format, sess session, remote string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv: s, id: newID(), ws: ws, format: format, ident: sess.id, remote: remote,
		connected: time.Now(), ctx: ctx, cancel: cancel,
		inflight: make(chan struct{}, connInflight),
		user:     sess.user, guestToken: sess.guestToken,
	}
	c.q = sendq.New(s.cfg.SendQueueBytes, s.cfg.SlowTimeout, func() { c.fail(closecode.Slow) })
	c.quota = quota.New(quota.Lobby, s.cfg.QuotaRefill, time.Now())
	empty, name := "", c.ident.DisplayName
	c.roomNow.Store(&empty)
	c.nameNow.Store(&name)
	return c
}

// spawn starts the connection's actor under the server's "connections"
// supervisor. Its mailbox fails fast when full (actor.FailFast): a RoomFanout
// or the ConnectionManager must never wait for one connection, and a
// connection whose mailbox overflows is hopelessly behind, so it is closed
// as slow (4003), as when its send queue stays full. A client message whose
// handling panics is not retried (handlers have side effects); the
// restarted actor closes the connection (1011).
func (c *conn) spawn() error {
	ref, err := c.srv.conns.Spawn(actor.Props{
		Kind: "connection", Name: "connection:" + c.id,
		New:         func() actor.Actor { return &connActor{c: c} },
		MailboxSize: connEvents + connInflight, Overflow: actor.FailFast,
		MaxRetries: -1,
	})
	if err != nil {
		return err
	}
	c.ref = ref
	return nil
}

// ConnID implements fanout.Member.
func (c *conn) ConnID() string { return c.id }

// Format implements fanout.Member.
func (c *conn) Format() codec.Format { return c.format }

// Send implements fanout.Member: frames skip the actor and go straight to
// the send queue, the hot path of fan-out.
func (c *conn) Send(frame []byte) bool { return c.q.Push(frame) }

// Event implements fanout.Member: a Tell to the connection's actor.
func (c *conn) Event(ev any) { c.tell(ev) }

// tell sends msg to the actor without blocking.
func (c *conn) tell(msg any) { c.refused(c.ref.Tell(context.Background(), msg)) }

// refused applies the slow-client rule to a failed send to the actor.
func (c *conn) refused(err error) {
	if errors.Is(err, actor.ErrMailboxFull) {
		c.fail(closecode.Slow.WithReason("event mailbox full"))
	}
}

// fail closes the connection with reason; the first reason wins.
func (c *conn) fail(reason closecode.Error) {
	c.closeOnce.Do(func() {
		c.reason = reason
		c.cancel()
	})
}

// run serves the connection until it closes; the actor is already
// spawned and registered.
func (c *conn) run() {
	log := c.srv.log.With("conn", c.id, "user", c.ident.UserID)
	c.srv.metrics.open.Add(context.Background(), 1)

	var wg sync.WaitGroup
	writerDone := make(chan struct{})
	wg.Go(c.readLoop)
	wg.Go(func() { defer close(writerDone); c.writeLoop() })
	wg.Go(c.keepalive)
	select {
	case <-c.ctx.Done():
	case <-c.ref.Done(): // its supervisor gave up on it
		c.fail(closecode.Internal)
	}
	// Stop the actor after the message it is handling; its state is this
	// goroutine's from then on.
	c.ref.Stop(context.Background())

	// Teardown: leave the local room at once, let the writer flush what is
	// queued (the noteQuota or error that explains the close; not for a
	// slow client, whose writer may be stuck), close the socket with the
	// reason (a handshake bounded by the library), then tell the services.
	if c.roomID != "" {
		c.srv.hub.Leave(c.roomID, c.id)
	}
	reason := c.reason
	if reason.Code != closecode.Slow.Code {
		select {
		case <-writerDone:
		case <-time.After(flushTimeout):
		}
	}
	c.q.Close()
	if err := c.ws.Close(reason.Code, reason.Reason); err != nil && !errors.Is(err, context.Canceled) {
		log.Debug("close websocket", "err", err)
	}
	wg.Wait()
	c.offline()
	c.srv.metrics.closed(int(reason.Code))
	log.Debug("connection closed", "code", int(reason.Code), "reason", reason.Reason)
}

func (c *conn) readLoop() {
	for {
		// Not c.ctx: the library cuts the socket when a read's context
		// ends, which would lose the close frame.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.fail(readError(err))
			return
		}
		c.srv.metrics.framesIn.Add(context.Background(), 1)
		m := new(pb.ClientMessage)
		if err := c.format.DecodeClient(typ, data, m); err != nil {
			c.sendError("", "INVALID_ARGUMENT", err.Error())
			continue
		}
		select {
		case c.inflight <- struct{}{}:
		case <-c.ctx.Done():
			return
		}
		if err := c.ref.Tell(context.Background(), MessageReceived{Message: m}); err != nil {
			c.refused(err)
			return // stopped or full: the connection is closing
		}
	}
}

func readError(err error) closecode.Error {
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return closecode.TooBig
	}
	if st := websocket.CloseStatus(err); st != -1 {
		return closecode.Normal.WithReason("closed by client")
	}
	return closecode.Normal.WithReason("read failed")
}

func (c *conn) writeLoop() {
	typ := c.format.MessageType()
	var batch [][]byte
	for {
		final := false
		select {
		case <-c.ctx.Done():
			// One last flush, unless the client is the reason.
			if c.reason.Code == closecode.Slow.Code {
				return
			}
			final = true
		case <-c.q.Ready():
		}
		// Everything queued goes out in this iteration; a context without
		// a deadline keeps the write path free of timers (a stuck write ends
		// when the slow timeout closes the socket).
		batch = c.q.Drain(batch)
		for _, b := range batch {
			if c.ctx.Err() != nil && c.reason.Code == closecode.Slow.Code {
				return // free the socket for the close frame
			}
			if err := c.ws.Write(context.Background(), typ, b); err != nil {
				c.fail(closecode.Normal.WithReason("write failed"))
				return
			}
		}
		if len(batch) > 0 {
			c.srv.metrics.framesOut.Add(context.Background(), int64(len(batch)))
		}
		if final {
			return
		}
	}
}

// flushTimeout bounds the last flush before a close.
const flushTimeout = 2 * time.Second

func (c *conn) keepalive() {
	wait := c.srv.cfg.IdleTimeout - c.srv.cfg.PingInterval
	if wait <= 0 {
		wait = c.srv.cfg.PingInterval
	}
	t := time.NewTimer(c.srv.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.fail(closecode.Timeout)
			} else {
				c.fail(closecode.Normal.WithReason("ping failed"))
			}
			return
		}
		t.Reset(c.srv.cfg.PingInterval)
	}
}

// sendMsg encodes m for this connection and queues it, echoing id.
func (c *conn) sendMsg(id string, m *pb.ServerMessage) {
	m.Id = id
	b, err := c.format.Encode(m)
	if err != nil {
		c.srv.log.Error("encode server message", "err", err)
		return
	}
	c.q.Push(b)
}

func (c *conn) sendError(id, code, message string) {
	c.sendMsg(id, &pb.ServerMessage{Payload: &pb.ServerMessage_Error{Error: &pb.Error{Code: code, Message: message}}})
}

// info describes the connection from its immutable fields and roomNow;
// safe from any goroutine.
func (c *conn) info() *pb.Connection {
	return &pb.Connection{
		ConnectionId: c.id, UserId: c.ident.UserID, DisplayName: *c.nameNow.Load(),
		RoomId: *c.roomNow.Load(), InstanceId: c.srv.cfg.InstanceID, Subprotocol: c.format.String(),
		ConnectedAt: timestamppb.New(c.connected), RemoteAddr: c.remote,
	}
}

// callCtx is the context of a call on the user's behalf: ctx's trace, a
// deadline, and the user's identity.
func (c *conn) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.srv.cfg.CallTimeout)
	return auth.OutgoingContext(ctx, c.ident), cancel
}

// online subscribes to the user's channel and reports the presence.
func (c *conn) online() {
	if err := c.srv.sub.Subscribe(context.Background(), pubsub.UserChannel(c.srv.cfg.KeyPrefix, c.ident.UserID)); err != nil {
		c.srv.log.Warn("subscribe user channel", "err", err)
	}
	c.presence(context.Background(), true)
}

// offline is the disconnect cleanup: leave the room, go offline (friends
// are told by the user service), drop the user's channel.
func (c *conn) offline() {
	ctx := context.Background()
	if c.roomID != "" {
		c.leaveRoom(ctx, "disconnected")
	}
	c.presence(ctx, false)
	if err := c.srv.sub.Unsubscribe(ctx, pubsub.UserChannel(c.srv.cfg.KeyPrefix, c.ident.UserID)); err != nil {
		c.srv.log.Warn("unsubscribe user channel", "err", err)
	}
}

func (c *conn) presence(ctx context.Context, online bool) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	_, err := c.srv.deps.User.UpdatePresence(ctx, &pb.UpdatePresenceRequest{
		UserId: c.ident.UserID, Online: online, RoomId: c.roomID,
		InstanceId: c.srv.cfg.InstanceID, ConnectionId: c.id,
	})
	if err != nil {
		c.srv.log.Warn("update presence", "user", c.ident.UserID, "online", online, "err", err)
	}
}
