package edge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/pubsub"
	"github.com/pianorhythm/server/services/connection/internal/quota"
	"github.com/pianorhythm/server/services/connection/internal/sendq"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// conn is the actor of one WebSocket connection. Four goroutines serve it:
// the reader (decodes frames into inbox), the loop (owns every mutable
// field below the line, handles client messages and events in order), the
// writer (drains the send queue) and the keepalive (pings). run, on the
// HTTP handler's goroutine, starts them and waits for all of them.
type conn struct {
	srv       *Server
	id        string
	ws        *websocket.Conn
	format    codec.Format
	ident     auth.Identity
	remote    string
	connected time.Time
	q         *sendq.Queue

	ctx     context.Context
	cancel  context.CancelFunc
	inbox   chan *pb.ClientMessage
	mailbox chan any

	closeOnce sync.Once
	reason    closecode.Error // set once by fail, read after ctx is done

	// roomNow mirrors roomID for readers outside the loop (admin listing).
	roomNow atomic.Pointer[string]

	// Owned by the loop goroutine.
	user       *pb.User
	guestToken string
	roomID     string
	room       *pb.Room
	quota      *quota.Quota
	joins      []time.Time
}

var _ fanout.Member = (*conn)(nil)

func newConn(s *Server, ws *websocket.Conn, format codec.Format, sess session, remote string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv: s, id: newID(), ws: ws, format: format, ident: sess.id, remote: remote,
		connected: time.Now(), ctx: ctx, cancel: cancel,
		inbox:   make(chan *pb.ClientMessage, 16),
		mailbox: make(chan any, 256),
		user:    sess.user, guestToken: sess.guestToken,
	}
	c.q = sendq.New(s.cfg.SendQueueBytes, s.cfg.SlowTimeout, func() { c.fail(closecode.Slow) })
	c.quota = quota.New(quota.Lobby, s.cfg.QuotaRefill, time.Now())
	empty := ""
	c.roomNow.Store(&empty)
	return c
}

// ConnID implements fanout.Member.
func (c *conn) ConnID() string { return c.id }

// Format implements fanout.Member.
func (c *conn) Format() codec.Format { return c.format }

// Send implements fanout.Member.
func (c *conn) Send(frame []byte) bool { return c.q.Push(frame) }

// Event implements fanout.Member: a connection whose mailbox is full is
// hopelessly behind and is closed as slow.
func (c *conn) Event(ev any) {
	select {
	case c.mailbox <- ev:
	default:
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

func (c *conn) run() {
	log := c.srv.log.With("conn", c.id, "user", c.ident.UserID)
	c.online()
	c.sendMsg("", &pb.ServerMessage{Payload: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{
		User: c.user, ConnectionId: c.id, ServerTime: time.Now().UnixMilli(), Token: c.guestToken,
	}}})

	var wg sync.WaitGroup
	writerDone := make(chan struct{})
	wg.Go(c.readLoop)
	wg.Go(func() { defer close(writerDone); c.writeLoop() })
	wg.Go(c.keepalive)
	c.loop()

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
	log.Debug("connection closed", "code", int(reason.Code), "reason", reason.Reason)
}

// loop is the actor: client messages and events, one at a time.
func (c *conn) loop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case m := <-c.inbox:
			c.handle(m)
		case ev := <-c.mailbox:
			c.handleEvent(ev)
		}
	}
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
		m := new(pb.ClientMessage)
		if err := c.format.DecodeClient(typ, data, m); err != nil {
			c.sendError("", "INVALID_ARGUMENT", err.Error())
			continue
		}
		select {
		case c.inbox <- m:
		case <-c.ctx.Done():
			return
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

func (c *conn) info() *pb.Connection {
	return &pb.Connection{
		ConnectionId: c.id, UserId: c.ident.UserID, DisplayName: c.ident.DisplayName,
		RoomId: *c.roomNow.Load(), InstanceId: c.srv.cfg.InstanceID, Subprotocol: c.format.String(),
		ConnectedAt: timestamppb.New(c.connected), RemoteAddr: c.remote,
	}
}

// callCtx is the context of a call on the user's behalf.
func (c *conn) callCtx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.CallTimeout)
	return auth.OutgoingContext(ctx, c.ident), cancel
}

// online subscribes to the user's channel and reports the presence.
func (c *conn) online() {
	if err := c.srv.sub.Subscribe(context.Background(), pubsub.UserChannel(c.srv.cfg.KeyPrefix, c.ident.UserID)); err != nil {
		c.srv.log.Warn("subscribe user channel", "err", err)
	}
	c.presence(true)
}

// offline is the disconnect cleanup: leave the room, go offline (friends
// are told by the user service), drop the user's channel.
func (c *conn) offline() {
	if c.roomID != "" {
		c.leaveRoom("disconnected")
	}
	c.presence(false)
	if err := c.srv.sub.Unsubscribe(context.Background(), pubsub.UserChannel(c.srv.cfg.KeyPrefix, c.ident.UserID)); err != nil {
		c.srv.log.Warn("unsubscribe user channel", "err", err)
	}
}

func (c *conn) presence(online bool) {
	ctx, cancel := c.callCtx()
	defer cancel()
	_, err := c.srv.deps.User.UpdatePresence(ctx, &pb.UpdatePresenceRequest{
		UserId: c.ident.UserID, Online: online, RoomId: c.roomID,
		InstanceId: c.srv.cfg.InstanceID, ConnectionId: c.id,
	})
	if err != nil {
		c.srv.log.Warn("update presence", "user", c.ident.UserID, "online", online, "err", err)
	}
}
