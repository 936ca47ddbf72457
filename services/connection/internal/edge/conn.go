package edge

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"github.com/pianorhythm/server/services/connection/internal/mpp"
	"github.com/pianorhythm/server/services/connection/internal/quota"
	"github.com/pianorhythm/server/services/connection/internal/sendq"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/metadata"
)

// conn is one WebSocket connection: what never changes, the socket and its
// send queue. Its state is the session (session.go), owned by the
// connection's actor (connActor, Kind "connection"). Goroutines serve it,
// all waited for by its teardown; an idle connection holds one, its reader,
// since what is occasional runs only while it happens:
//
//   - the reader decodes frames and Tells the actor MessageReceived: run
//     itself on /ws once the connection is admitted (on a goroutine the
//     handler started); on /mpp a goroutine of its own from the start,
//     which hands run the client's hi (frames before it go nowhere, see
//     handshake), and run returns once the connection is registered;
//   - the actor (a kernel goroutine, only while it has messages:
//     actor.Props.ReleaseWhenIdle) handles client messages, events from
//     RoomFanouts and the manager, and the results of calls;
//   - a worker runs each of the connection's blocking calls (gRPC, Redis
//     subscriptions), one at a time, so notes, pings and room events keep
//     flowing while one is pending (calls.go);
//   - a writer, started by the push that finds the send queue idle, drains
//     it, coalescing what is queued, and ends after a second with nothing
//     to write (writerLinger);
//   - the keepalive's timer pings, a goroutine waiting for each pong;
//   - the end of the connection closes the socket on a goroutine of its
//     own (closeSocket), which ends the read; on /mpp the teardown follows
//     on that goroutine, on /ws on run's once its read has ended.
type conn struct {
	srv      *Server
	id       string
	ws       *websocket.Conn
	format   codec.Format
	remote   string // the client's address (clientip), for the admin listing
	clientIP string // the client's IP, forwarded on calls for per-IP limits
	q        *sendq.Queue
	// cork, when set, is the socket under ws: the writer holds the
	// flushes of a drained batch and sends them in one write (cork.go).
	cork *corkConn
	// mpp is the Multiplayer Piano side of an /mpp connection (nil on
	// /ws): everything sent to the client goes through it (sendFrame,
	// sendMsg), and it decodes what the client sends.
	mpp *mpp.Session

	// Set once by admit, before the actor starts and the reader passes
	// admitted; never changed after.
	userID    string
	connected time.Time
	ref       *actor.Ref
	s         *session
	notes     *track.NoteCounter
	// admitted is closed once the connection has its session, actor and
	// registration: the /mpp reader hands the actor nothing before.
	admitted chan struct{}
	// hello hands run the hi of an /mpp client (the reader's first).
	hello chan string
	// queryToken is the ?token= of an /mpp upgrade, the fallback of a hi
	// without one.
	queryToken string

	// loops are the connection's goroutines: the /mpp reader, a writer at
	// work, the call in flight and a ping in flight; the teardown waits
	// for them.
	loops sync.WaitGroup
	// inflight bounds the client messages queued in the actor's mailbox:
	// the reader takes a token per message, the actor returns it. A
	// client that sends faster than it is served is slowed down by TCP,
	// and its messages never crowd events out of the mailbox.
	inflight chan struct{}

	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	reason    closecode.Error // set once by fail, read after ctx is done
}

var _ fanout.Member = (*conn)(nil)

// Mailbox sizes of a connection actor: events (room state changes, user
// events, admin messages, call results) plus the client messages in
// flight.
const (
	connEvents   = 256
	connInflight = 16
)

// peer is where a connection comes from, as the edge trusts it.
type peer struct{ addr, ip string }

// newConn is a connection not admitted yet: on /mpp, the session comes
// with the client's hi.
func newConn(s *Server, ws *websocket.Conn, cork *corkConn, format codec.Format, from peer) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv: s, id: newID(), ws: ws, cork: cork, format: format,
		remote: from.addr, clientIP: from.ip,
		connected: time.Now(), ctx: ctx, cancel: cancel,
		admitted: make(chan struct{}),
		hello:    make(chan string, 1),
		inflight: make(chan struct{}, connInflight),
	}
	c.q = sendq.New(sendq.Config{
		MaxBytes: s.cfg.SendQueueBytes, SlowAfter: s.cfg.SlowTimeout, OnSlow: func() { c.fail(closecode.Slow) },
		StartWriter: func() { c.loops.Go(c.writeLoop) }, Linger: writerLinger,
	})
	if format == codec.MPP {
		c.mpp = mpp.NewSession(mpp.Config{
			MOTD: s.cfg.MPPMOTD, CursorRate: s.cfg.CursorsPerSecond, CursorBurst: s.cfg.CursorBurst,
			MaxFrameBytes: s.cfg.MaxFrameBytes,
		}, c.q.Push)
		c.mpp.Open()
	}
	return c
}

// admit gives the connection its session (who it is).
func (c *conn) admit(sess session) {
	sess.quota = quota.New(quota.Lobby, c.srv.cfg.QuotaRefill, time.Now())
	sess.cursors = rate.NewLimiter(rate.Limit(c.srv.cfg.CursorsPerSecond), c.srv.cfg.CursorBurst)
	c.s = &sess
	c.userID = sess.ident.UserID
	c.connected = time.Now()
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
		New:         func() actor.Actor { return &connActor{c: c, s: c.s} },
		MailboxSize: connEvents + connInflight, Overflow: actor.FailFast,
		MaxRetries: -1, ReleaseWhenIdle: true,
	})
	if err != nil {
		return err
	}
	c.ref = ref
	return nil
}

// ConnID implements fanout.Member.
func (c *conn) ConnID() string { return c.id }

// Send implements fanout.Member: frames skip the actor and go straight to
// the send queue, the hot path of fan-out.
func (c *conn) Send(frame *codec.Frame) bool { return c.sendFrame(frame) }

// sendFrame queues fr in the connection's format, encoded once for every
// recipient of that format; an MPP connection's session reads the message
// too. Safe from any goroutine.
func (c *conn) sendFrame(fr *codec.Frame) bool {
	b, err := fr.Bytes(c.format)
	if err != nil {
		c.srv.log.Error("encode server message", "format", c.format.String(), "err", err)
		return false
	}
	if c.mpp != nil {
		return c.mpp.Deliver(fr.Message(), b)
	}
	return c.q.Push(b)
}

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

// run serves the connection until it closes: it admits it (on /mpp once
// the client has said hi), starts its actor and registers it, reads the
// client's frames (on /ws; an /mpp connection's reader has its own
// goroutine, which hands over the hi) and tears the connection down; done
// is called once all of that is over. On /mpp run returns once the
// connection is registered, and its end happens on the goroutine the end of
// its context starts: this one's stack, grown by the sign-in, is not kept
// for the connection's life.
func (c *conn) run(done func()) {
	srv := c.srv
	srv.metrics.open.Add(context.Background(), 1)

	if c.mpp != nil {
		c.loops.Go(c.readMPP)
	}
	stopPings := c.keepalive()
	registered := (c.s != nil || c.handshake()) && c.start()
	end := func() {
		c.closeSocket(registered)
		c.teardown(registered, stopPings)
		done()
	}
	if !registered { // the connection is closing
		end()
		return
	}
	close(c.admitted)
	srv.events.Emit(context.Background(), &pb.Event{Type: pb.EventType_EVENT_TYPE_CONNECTION_OPENED,
		UserId: c.userID, ConnectionId: c.id, Attributes: map[string]string{"protocol": c.format.String()}})
	c.ref.AfterStop(func() { c.fail(closecode.Internal) }) // its supervisor gave up on it
	if c.mpp != nil {
		context.AfterFunc(c.ctx, end)
		return
	}
	// The end of the connection closes its socket at once, which also
	// ends the read in progress; the teardown follows the reader's end.
	closed := make(chan struct{})
	context.AfterFunc(c.ctx, func() { c.closeSocket(true); close(closed) })
	c.readLoop()
	<-closed
	c.teardown(true, stopPings)
	done()
}

// teardown follows closeSocket: it waits for the connection's other
// goroutines (the worker finishes the call in flight), then applies what
// the actor did not and tells the services.
func (c *conn) teardown(registered bool, stopPings func()) {
	srv := c.srv
	stopPings()
	// The actor has stopped, so no call starts from here on.
	c.loops.Wait()
	reason := c.reason
	if registered {
		a := &connActor{c: c, s: c.s}
		a.abandonCalls()
		a.offline()
		srv.rooms.Unwatch(c.id)
		c.notes.Close()
		srv.mgr.Tell(context.Background(), ConnectionClosed{ConnectionID: c.id})
		srv.events.Emit(context.Background(), &pb.Event{Type: pb.EventType_EVENT_TYPE_CONNECTION_CLOSED,
			UserId: c.userID, ConnectionId: c.id, Count: int64(time.Since(c.connected).Round(time.Second) / time.Second),
			Attributes: map[string]string{"protocol": c.format.String(), "close_code": strconv.Itoa(int(reason.Code))}})
	}
	srv.metrics.closed(int(reason.Code))
	srv.log.Debug("connection closed", "conn", c.id, "user", c.userID, "code", int(reason.Code), "reason", reason.Reason)
}

// closeSocket ends a connection whose context is done, on a goroutine of
// its own: it stops the actor after the message it is handling (the
// session is run's from then on), lets the writer flush what is queued (the
// noteQuota or error that explains the close; not for a slow client, whose
// writer may be stuck) and closes the socket with the reason (a handshake
// bounded by the library). It returns once a writer at work has finished;
// the closed socket ends one stuck in a write.
func (c *conn) closeSocket(stopActor bool) {
	if stopActor {
		c.ref.Stop(context.Background())
	}
	reason := c.reason
	flushed := c.q.Seal()
	if reason.Code != closecode.Slow.Code {
		select {
		case <-flushed:
		case <-time.After(flushTimeout):
		}
	}
	c.q.Close()
	if err := c.ws.Close(reason.Code, reason.Reason); err != nil && !errors.Is(err, context.Canceled) {
		c.srv.log.Debug("close websocket", "conn", c.id, "err", err)
	}
	<-flushed
}

// start makes an admitted connection live: a banned account is closed
// (4008); otherwise its actor is spawned and the ConnectionManager
// registers it. False: the connection is closing.
func (c *conn) start() bool {
	if until := c.s.user.GetBannedUntil(); until != nil && until.AsTime().After(time.Now()) {
		if c.mpp != nil {
			c.mpp.Notify("Banned", "This account is banned until "+until.AsTime().UTC().Format(time.RFC1123)+".")
		}
		c.fail(closecode.Banned)
		return false
	}
	c.notes = c.srv.notes.Counter(c.userID, "", c.id)
	if err := c.spawn(); err != nil {
		c.notes.Close()
		c.fail(closecode.ServerClosing)
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.CallTimeout)
	defer cancel()
	if _, err := c.srv.ask(ctx, NewConnection{Conn: c}); err != nil {
		c.notes.Close()
		c.fail(closecode.ServerClosing)
		// Registered or not, the manager forgets it (ConnectionClosed of
		// an unknown id does nothing).
		c.ref.Stop(context.Background())
		c.srv.mgr.Tell(context.Background(), ConnectionClosed{ConnectionID: c.id})
		return false
	}
	return true
}

// readLoop is the reader of an admitted /ws connection, on run's
// goroutine: frames become client messages for the actor.
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
			c.srv.metrics.refusedFrames.Add(context.Background(), 1)
			c.sendError("", pb.ErrorReason_INVALID_ARGUMENT.String(), err.Error())
			continue
		}
		if !c.received(m) {
			return
		}
	}
}

// received hands a decoded client message to the actor; false means the
// connection is closing.
func (c *conn) received(m *pb.ClientMessage) bool {
	select {
	case c.inflight <- struct{}{}:
	case <-c.ctx.Done():
		return false
	}
	if err := c.ref.Tell(context.Background(), MessageReceived{Message: m}); err != nil {
		c.refused(err)
		return false // stopped or full: the connection is closing
	}
	return true
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

// writeLoop is a writer: the send queue starts one when a frame is pushed
// and none is at work, and it returns once the queue has stayed empty for
// writerLinger (sendq).
func (c *conn) writeLoop() {
	typ := c.format.MessageType()
	for {
		batch, ok := c.q.Next()
		if !ok {
			return
		}
		if !c.writeBatch(typ, batch) {
			c.q.Stop()
			return
		}
		c.srv.metrics.framesOut.Add(context.Background(), int64(len(batch)))
	}
}

// writeBatch writes what the writer drained, in one syscall when corked
// (always, under a server's socket: its small write buffer would split a
// lone frame in two otherwise); false: the writer must give up (the socket
// failed, or a slow client's close needs the socket). A context without a
// deadline keeps the write path free of timers (a stuck write ends when
// the slow timeout closes the socket).
func (c *conn) writeBatch(typ websocket.MessageType, batch [][]byte) bool {
	corked := c.cork != nil
	if corked {
		c.cork.cork()
	}
	for _, b := range batch {
		if c.ctx.Err() != nil && c.reason.Code == closecode.Slow.Code {
			if corked {
				_ = c.cork.uncork()
			}
			return false // free the socket for the close frame
		}
		if err := c.ws.Write(context.Background(), typ, b); err != nil {
			c.fail(closecode.Normal.WithReason("write failed"))
			return false
		}
	}
	if corked {
		if err := c.cork.uncork(); err != nil {
			c.fail(closecode.Normal.WithReason("write failed"))
			return false
		}
	}
	return true
}

// writerLinger is how long a connection's writer waits for the next frame
// once it has written everything: longer than the gap between note
// batches of a played room, so a listener keeps its writer while music
// plays and gives it back within a second of silence.
const writerLinger = time.Second

// flushTimeout bounds the last flush before a close.
const flushTimeout = 2 * time.Second

// keepalive pings the client every PingInterval from a timer, so that an
// idle connection holds no goroutine for it: one runs only while a ping
// waits for its pong. A client that does not answer within the idle
// timeout is closed. The returned stop ends the pings; one in flight is
// among c.loops, which the teardown waits for (the closed socket ends it).
func (c *conn) keepalive() (stop func()) {
	interval := c.srv.cfg.PingInterval
	wait := c.srv.cfg.IdleTimeout - interval
	if wait <= 0 {
		wait = interval
	}
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	ping := func() {
		mu.Lock()
		if stopped || c.ctx.Err() != nil {
			mu.Unlock()
			return
		}
		c.loops.Add(1) // before stop can wait: stopped is still false
		mu.Unlock()
		defer c.loops.Done()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err := c.ws.Ping(ctx)
		cancel()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			c.fail(closecode.Timeout)
		case err != nil:
			c.fail(closecode.Normal.WithReason("ping failed"))
		default:
			mu.Lock()
			if !stopped {
				t.Reset(interval)
			}
			mu.Unlock()
		}
	}
	mu.Lock()
	t = time.AfterFunc(interval, ping)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

// sendMsg encodes m for this connection and queues it, echoing id; safe
// from any goroutine. An MPP client gets it through its session.
func (c *conn) sendMsg(id string, m *pb.ServerMessage) {
	m.Id = id
	if c.mpp != nil {
		c.mpp.Deliver(m, nil)
		return
	}
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

// callCtx is the context of a call on the user's behalf: ctx's trace, a
// deadline, the user's identity and the client's address (the per-IP
// limits of the services count the client, not the edge).
func (c *conn) callCtx(ctx context.Context, id auth.Identity) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.srv.cfg.CallTimeout)
	ctx = auth.OutgoingContext(ctx, id)
	if c.clientIP != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-forwarded-for", c.clientIP)
	}
	return ctx, cancel
}

// presence reports the user online (in roomID) or offline through this
// connection; failures are logged (the ghost tracker mends presence). A
// guest's goes to the state service directly: the user service would only
// pass it on, guests having no friends to tell, and the extra hop was two
// of the eight calls of a guest's arrival.
func (c *conn) presence(ctx context.Context, id auth.Identity, roomID string, online bool) {
	ctx, cancel := c.callCtx(ctx, id)
	defer cancel()
	var err error
	switch {
	case id.Guest && online:
		_, err = c.srv.deps.State.SetOnline(ctx, &pb.SetOnlineRequest{
			UserId: c.userID, InstanceId: c.srv.cfg.InstanceID, ConnectionId: c.id, RoomId: roomID,
		})
	case id.Guest:
		_, err = c.srv.deps.State.SetOffline(ctx, &pb.SetOfflineRequest{UserId: c.userID, ConnectionId: c.id})
	default:
		_, err = c.srv.deps.User.UpdatePresence(ctx, &pb.UpdatePresenceRequest{
			UserId: c.userID, Online: online, RoomId: roomID,
			InstanceId: c.srv.cfg.InstanceID, ConnectionId: c.id,
		})
	}
	if err != nil {
		c.srv.log.Warn("update presence", "user", c.userID, "online", online, "err", err)
	}
}
