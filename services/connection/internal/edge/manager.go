package edge

import (
	"context"
	"errors"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
)

// The ConnectionManager's messages, named as in the original design.
type (
	// NewConnection registers a connection; Ask, answered with nil or
	// errClosing.
	NewConnection struct{ Conn *conn }
	// ConnectionClosed unregisters a connection; Tell.
	ConnectionClosed struct{ ConnectionID string }
	// SendMessage delivers a frame and/or a state event to one connection.
	// The manager forwards it to the connection's actor, which answers an
	// Ask with true; false means no such connection here.
	SendMessage struct {
		ConnectionID string
		Frame        *codec.Frame
		Event        any
	}
	// SendToUser delivers a frame and/or event to every local connection
	// of a user (user events from Redis); Tell.
	SendToUser struct {
		UserID string
		Frame  *codec.Frame
		Event  any
	}
	// ListConnections answers an Ask with the connections open here
	// ([]*conn), optionally only those of UserID; what each is doing its
	// own actor says.
	ListConnections struct{ UserID string }
	// CloseConnections closes ConnectionID, or every connection of UserID,
	// with Reason; Ask, answered with how many (int).
	CloseConnections struct {
		ConnectionID, UserID string
		Reason               closecode.Error
	}
	// closeAll refuses further registrations and answers with every
	// registered connection ([]*conn), which the caller closes.
	closeAll struct{}
)

var errClosing = errors.New("server closing")

// registry is the ConnectionManager's state. It lives outside the actor
// instance because it describes open sockets, which cannot be reloaded: a
// restarted manager (Props.New) picks the same registry up.
type registry struct {
	conns   map[string]*conn
	byUser  map[string]map[string]*conn
	closing bool
}

// manager is the ConnectionManager actor (Kind "connection-manager"): the
// registry of this instance's connections. Its mailbox blocks when full
// (actor.Block): each message is a map operation and fail-fast Tells to
// connection actors, so it drains fast, and registrations, user events and
// admin calls must not be dropped.
type manager struct{ reg *registry }

func newRegistry() *registry {
	return &registry{conns: make(map[string]*conn), byUser: make(map[string]map[string]*conn)}
}

func (m *manager) Receive(ac *actor.Context) {
	r := m.reg
	switch msg := ac.Message().(type) {
	case NewConnection:
		if r.closing {
			ac.Respond(errClosing)
			return
		}
		c := msg.Conn
		r.conns[c.id] = c
		if r.byUser[c.userID] == nil {
			r.byUser[c.userID] = make(map[string]*conn)
		}
		r.byUser[c.userID][c.id] = c
		ac.Respond(nil)
	case ConnectionClosed:
		c := r.conns[msg.ConnectionID]
		if c == nil {
			return
		}
		delete(r.conns, c.id)
		if byID := r.byUser[c.userID]; byID != nil {
			delete(byID, c.id)
			if len(byID) == 0 {
				delete(r.byUser, c.userID)
			}
		}
	case SendMessage:
		c := r.conns[msg.ConnectionID]
		if c == nil {
			ac.Respond(false)
			return
		}
		// The connection's actor answers (and orders the frame after
		// whatever it has already queued).
		if err := ac.Forward(c.ref); err != nil {
			c.refused(err)
			ac.Respond(false)
		}
	case SendToUser:
		for _, c := range r.byUser[msg.UserID] {
			c.tell(SendMessage{ConnectionID: c.id, Frame: msg.Frame, Event: msg.Event})
		}
	case ListConnections:
		from := r.conns
		if msg.UserID != "" {
			from = r.byUser[msg.UserID]
		}
		out := make([]*conn, 0, len(from))
		for _, c := range from {
			if c.ctx.Err() == nil { // not closing
				out = append(out, c)
			}
		}
		ac.Respond(out)
	case CloseConnections:
		var targets []*conn
		switch {
		case msg.ConnectionID != "":
			if c := r.conns[msg.ConnectionID]; c != nil {
				targets = append(targets, c)
			}
		case msg.UserID != "":
			for _, c := range r.byUser[msg.UserID] {
				targets = append(targets, c)
			}
		}
		for _, c := range targets {
			c.fail(msg.Reason)
		}
		ac.Respond(len(targets))
	case closeAll:
		r.closing = true
		all := make([]*conn, 0, len(r.conns))
		for _, c := range r.conns {
			all = append(all, c)
		}
		ac.Respond(all)
	}
}

// spawnManager starts the ConnectionManager under sys's root supervisor.
func spawnManager(sys *actor.System, reg *registry) (*actor.Ref, error) {
	return sys.Spawn(actor.Props{
		Kind: "connection-manager", Name: "connection-manager",
		New:         func() actor.Actor { return &manager{reg: reg} },
		MailboxSize: 4096, Overflow: actor.Block,
		MaxRetries: -1,
	})
}

// ask is a manager Ask bounded by the call timeout when ctx has no
// deadline.
func (s *Server) ask(ctx context.Context, msg any) (any, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.CallTimeout)
		defer cancel()
	}
	return s.mgr.Ask(ctx, msg)
}
