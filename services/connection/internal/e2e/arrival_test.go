package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
)

// callHold holds a service's calls of one method until the test opens
// it: the services busy with a crowd.
type callHold struct {
	method string
	held   chan struct{} // one value per call being held
	open   chan struct{}
}

func newCallHold(method string) *callHold {
	return &callHold{method: method, held: make(chan struct{}, 64), open: make(chan struct{})}
}

// newGuestHold holds the state service's SaveUser calls: every new guest
// makes one.
func newGuestHold() *callHold { return newCallHold(pb.StateService_SaveUser_FullMethodName) }

func (g *callHold) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if info.FullMethod == g.method {
		select {
		case <-g.open:
		default:
			g.held <- struct{}{}
			<-g.open
		}
	}
	return next(ctx, req)
}

func (g *callHold) release() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

type dialed struct {
	ws  *websocket.Conn
	res *http.Response
	err error
	in  time.Duration
}

// dialGuest opens /ws as a guest in the background.
func dialGuest(e *edge) chan dialed {
	out := make(chan dialed, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		ws, res, err := websocket.Dial(ctx, e.wsURL(""), &websocket.DialOptions{Subprotocols: []string{codec.JSON.String()}})
		out <- dialed{ws: ws, res: res, err: err, in: time.Since(start)}
	}()
	return out
}

func welcomed(t *testing.T, d dialed) {
	t.Helper()
	if d.err != nil {
		t.Fatalf("dial: %v", d.err)
	}
	defer d.ws.CloseNow()
	c := &client{t: t, ws: d.ws, format: codec.JSON}
	if m := c.read(5 * time.Second); m.GetWelcome() == nil {
		t.Fatalf("first message %v, want welcome", m)
	}
}

// TestArrivalsWaitTheirTurn: while the services are busy signing in the
// connections already arriving (MaxArriving of them), a new one waits its
// turn, making no call meanwhile, and gets in once they are through;
// only one that waited ArrivalWait is refused, with 503 and Retry-After,
// instead of piling calls on the services until their deadlines refuse
// everyone.
func TestArrivalsWaitTheirTurn(t *testing.T) {
	t.Run("waits", func(t *testing.T) {
		g := newGuestHold()
		t.Cleanup(g.release)
		w := newWorldWith(t, worldOpts{stateIcpt: g.interceptor})
		e := w.edge(connsvc.Config{MaxArriving: 1, ArrivalWait: time.Minute})
		first := dialGuest(e)
		<-g.held
		second := dialGuest(e)
		select {
		case <-g.held:
			t.Fatal("the second arrival reached the services while the first was being signed in")
		case d := <-second:
			t.Fatalf("the second arrival was answered before its turn: %v", d.err)
		case <-time.After(300 * time.Millisecond):
		}
		g.release()
		welcomed(t, <-first)
		welcomed(t, <-second)
	})

	t.Run("refused after ArrivalWait", func(t *testing.T) {
		h := newGuestHold()
		t.Cleanup(h.release)
		w := newWorldWith(t, worldOpts{stateIcpt: h.interceptor})
		const wait = 200 * time.Millisecond
		e := w.edge(connsvc.Config{MaxArriving: 1, ArrivalWait: wait})
		first := dialGuest(e)
		<-h.held
		d := <-dialGuest(e)
		if d.err == nil {
			d.ws.CloseNow()
			t.Fatal("an arrival past ArrivalWait got in")
		}
		if d.res == nil || d.res.StatusCode != http.StatusServiceUnavailable || d.res.Header.Get("Retry-After") != "1" {
			t.Fatalf("refusal %+v (%v), want 503 with Retry-After: 1", d.res, d.err)
		}
		// Refused when its wait ended, not at a call's deadline (5s).
		if d.in < wait || d.in > 4*time.Second {
			t.Fatalf("refused after %v, want about %v", d.in, wait)
		}
		h.release()
		welcomed(t, <-first)
		welcomed(t, <-dialGuest(e))
	})
}

// TestDeparturesWaitTheirTurn: connections closing together are signed
// out MaxArriving at a time, the others waiting as long as it takes
// rather than piling leaves on the services until their deadlines drop
// them (a seat the room would keep showing); the member who stays sees
// every one of them leave.
func TestDeparturesWaitTheirTurn(t *testing.T) {
	h := newCallHold(pb.RoomService_LeaveRoom_FullMethodName)
	w := newWorldWith(t, worldOpts{roomIcpt: h.interceptor})
	t.Cleanup(h.release)
	e := w.edge(connsvc.Config{MaxArriving: 1})
	stay := e.dial(t, codec.JSON, "")
	stay.join("leaving-together", true)
	var leaving []*client
	for range 3 {
		c := e.dial(t, codec.Proto, "")
		c.join("leaving-together", false)
		leaving = append(leaving, c)
	}
	gone := map[string]bool{}
	for _, c := range leaving {
		gone[c.id()] = true
		_ = c.ws.Close(websocket.StatusNormalClosure, "bye")
	}
	<-h.held
	select {
	case <-h.held:
		t.Fatal("a second leave reached the room service while the first was being handled")
	case <-time.After(300 * time.Millisecond):
	}
	h.release()
	for len(gone) > 0 {
		m := stay.await("userLeft", 10*time.Second, func(m *pb.ServerMessage) bool { return m.GetUserLeft() != nil })
		delete(gone, m.GetUserLeft().GetUserId())
	}
}
