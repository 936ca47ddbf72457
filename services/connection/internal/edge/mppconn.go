package edge

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/connection/internal/closecode"
	"github.com/pianorhythm/server/services/connection/internal/codec"
)

// ServeMPP accepts a Multiplayer Piano connection on /mpp: one more wire
// format of the same edge (same actor, quotas, limits and rooms), whose
// frames the connection's mpp.Session translates. The client is admitted
// when it says hi (handshake): signed in with the hi's token, else the
// upgrade's ?token= (a bad one is a plain 401, as on /ws), else as a guest.
func (s *Server) ServeMPP(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w) {
		return
	}
	handedOff := false
	defer s.leave(&handedOff)
	from := s.peerOf(r)
	token := auth.BearerToken(r.Header.Get("Authorization"))
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	if token != "" {
		if _, err := s.deps.Verifier.Verify(r.Context(), token); err != nil {
			http.Error(w, errBadToken.Error()+": "+err.Error(), http.StatusUnauthorized)
			return
		}
	}
	// MPP clients negotiate no subprotocol.
	cw := &corkWriter{ResponseWriter: w}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		return // Accept has answered the request.
	}
	ws.SetReadLimit(int64(s.cfg.MaxFrameBytes))
	c := newConn(s, ws, cw.conn, codec.MPP, from)
	c.queryToken = token
	handedOff = true
	c.run(s.wg.Done)
}

// handshake admits an /mpp connection: it waits for the client's hi (the
// reader hands over its token) for at most the idle timeout (4004), and
// makes the session. A hi token that is not accepted (expired, say: MPP
// clients keep the token they were given and send it on every visit)
// does not lock the client out: it is told so and goes on with the next
// in line (the ?token=, then a guest). False: the connection is closing.
func (c *conn) handshake() bool {
	t := time.NewTimer(c.srv.cfg.IdleTimeout)
	defer t.Stop()
	var token string
	select {
	case token = <-c.hello:
	case <-c.ctx.Done():
		return false
	case <-t.C:
		c.fail(closecode.Timeout.WithReason("no hi"))
		return false
	}
	if token == "" {
		token = c.queryToken
	}
	ctx := c.ctx
	sess, err := c.srv.authenticate(ctx, token, c.clientIP)
	if token != "" && errors.Is(err, errBadToken) {
		next, as := c.queryToken, "the account of the address's token"
		if next == token {
			next = ""
		}
		if next == "" {
			as = "a guest"
		}
		c.mpp.Notify("Not signed in", "The token of your hi was not accepted ("+reasonOf(err)+"): you are "+as+" here.")
		sess, err = c.srv.authenticate(ctx, next, c.clientIP)
	}
	if err != nil {
		c.mpp.Notify("Try again", "The server cannot sign you in now; try again in a moment.")
		c.fail(closecode.Unavailable)
		return false
	}
	c.admit(sess)
	return true
}

// reasonOf is the detail of an authentication error, for a person.
func reasonOf(err error) string {
	msg := err.Error()
	if p := errBadToken.Error() + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// readMPP is the reader of an /mpp connection. The session decodes each
// frame and answers what it refuses itself (one notification; the socket
// stays open); what it accepts goes to the actor as any client message,
// once the client has said hi and the connection is admitted. A bye closes
// normally.
func (c *conn) readMPP() {
	admitted := false
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.fail(readError(err))
			return
		}
		c.srv.metrics.framesIn.Add(context.Background(), 1)
		in, err := c.mpp.Decode(typ, data)
		if err != nil {
			c.srv.metrics.refusedFrames.Add(context.Background(), 1)
		}
		if !admitted {
			if in.Bye {
				c.fail(closecode.Normal.WithReason("bye"))
				return
			}
			if !in.Hello {
				continue // refused by the session: nothing before hi
			}
			c.hello <- in.Token // room for one: there is one hi
			select {
			case <-c.admitted:
			case <-c.ctx.Done():
				return
			}
			admitted = true
		}
		for _, m := range in.Messages {
			if !c.received(m) {
				return
			}
		}
		if in.Bye {
			c.fail(closecode.Normal.WithReason("bye"))
			return
		}
	}
}
