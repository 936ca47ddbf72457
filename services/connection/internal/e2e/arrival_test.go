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

// guestHold holds the state service's SaveUser calls (every new guest
// makes one) until the test opens it: the services busy with a crowd.
type guestHold struct {
	held chan struct{} // one value per call being held
	open chan struct{}
}

func newGuestHold() *guestHold {
	return &guestHold{held: make(chan struct{}, 64), open: make(chan struct{})}
}

func (g *guestHold) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if info.FullMethod == pb.StateService_SaveUser_FullMethodName {
		select {
		case <-g.open:
		default:
			g.held <- struct{}{}
			<-g.open
		}
	}
	return next(ctx, req)
}

func (g *guestHold) release() {
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
