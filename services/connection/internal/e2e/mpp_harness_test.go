package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pianorhythm/server/services/connection/internal/mpp/mpptest"
)

// mppClient drives /mpp with the independent MPP client (mpptest, written
// from the protocol description, not from our encoder).
type mppClient struct {
	t  testing.TB
	c  *mpptest.Client
	hi mpptest.Hello
	// seq makes each sync's e unique.
	seq int
}

func (e *edge) mppURL(query string) string {
	u := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/mpp"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dialMPP connects to /mpp, reads the b challenge and says hi (with token
// when not empty), returning once the server has answered hi.
func (e *edge) dialMPP(t testing.TB, token string) *mppClient {
	t.Helper()
	m := e.dialMPPRaw(t, "")
	if _, err := m.c.Expect(m.ctx(), "b", nil); err != nil {
		t.Fatal(err)
	}
	m.send(mpptest.Hi{Token: token})
	m.expect("hi", &m.hi)
	if m.hi.U.UserID == "" {
		t.Fatalf("hi without a user: %+v", m.hi)
	}
	return m
}

// dialMPPRaw connects to /mpp and reads nothing.
func (e *edge) dialMPPRaw(t testing.TB, query string) *mppClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := mpptest.Dial(ctx, e.mppURL(query), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Conn().CloseNow() })
	return &mppClient{t: t, c: c}
}

func (m *mppClient) id() string { return m.hi.U.UserID }

// ctx bounds one read or write; the library closes the socket when a
// read's context ends, which is fine: a test that waited that long fails.
func (m *mppClient) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	m.t.Cleanup(cancel)
	return ctx
}

func (m *mppClient) send(msgs ...mpptest.Message) {
	m.t.Helper()
	if err := m.c.Send(m.ctx(), msgs...); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mppClient) sendRaw(typ websocket.MessageType, data []byte) {
	m.t.Helper()
	if err := m.c.SendRaw(m.ctx(), typ, data); err != nil {
		m.t.Fatal(err)
	}
}

// expect reads up to the next message named name, decoding it into v.
func (m *mppClient) expect(name string, v any) mpptest.Received {
	m.t.Helper()
	r, err := m.c.Expect(m.ctx(), name, v)
	if err != nil {
		m.t.Fatal(err)
	}
	return r
}

// until reads until a message named name matches, skipping the others.
func (m *mppClient) until(name string, match func(mpptest.Received) bool) mpptest.Received {
	m.t.Helper()
	ctx := m.ctx()
	for {
		r, err := m.c.Expect(ctx, name, nil)
		if err != nil {
			m.t.Fatalf("waiting for a matching %q: %v", name, err)
		}
		if match(r) {
			return r
		}
	}
}

// sync sends a time sync and reads up to its answer, failing on a message
// that bad matches on the way: everything the server queued before the
// answer has arrived by then. It returns what arrived.
func (m *mppClient) sync(bad func(mpptest.Received) bool) []mpptest.Received {
	m.t.Helper()
	m.seq++
	e := float64(1_000_000 + m.seq)
	m.send(mpptest.Ping{E: &e})
	ctx := m.ctx()
	var seen []mpptest.Received
	for {
		r, err := m.c.Next(ctx)
		if err != nil {
			m.t.Fatalf("waiting for the answer to t: %v (after %s)", err, names(seen))
		}
		if bad != nil && bad(r) {
			m.t.Fatalf("unexpected %s %s", r.M, r.Raw)
		}
		seen = append(seen, r)
		var p mpptest.Pong
		if r.M == "t" && r.Decode(&p) == nil && p.E != nil && *p.E == e {
			return seen
		}
	}
}

// join sends ch and returns the channel state answered.
func (m *mppClient) join(channel string) mpptest.ChannelState {
	m.t.Helper()
	m.send(mpptest.Join{ID: channel})
	var ch mpptest.ChannelState
	m.until("ch", func(r mpptest.Received) bool {
		return r.Decode(&ch) == nil && ch.P == m.id()
	})
	return ch
}

// collect reads up to the next message named name and returns every
// message read, that one last.
func (m *mppClient) collect(name string) []mpptest.Received {
	m.t.Helper()
	ctx := m.ctx()
	var seen []mpptest.Received
	for {
		r, err := m.c.Next(ctx)
		if err != nil {
			m.t.Fatalf("waiting for %q: %v (after %s)", name, err, names(seen))
		}
		seen = append(seen, r)
		if r.M == name {
			return seen
		}
	}
}

// closeCode reads until the server closes and returns the close code.
func (m *mppClient) closeCode() websocket.StatusCode {
	m.t.Helper()
	ctx := m.ctx()
	for {
		if _, err := m.c.Next(ctx); err != nil {
			code := websocket.CloseStatus(err)
			if code == -1 {
				m.t.Fatalf("read ended without a close frame: %v", err)
			}
			return code
		}
	}
}

func names(rs []mpptest.Received) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.M + " " + string(r.Raw)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func isMPP(name string) func(mpptest.Received) bool {
	return func(r mpptest.Received) bool { return r.M == name }
}

func count(rs []mpptest.Received, name string) int {
	n := 0
	for _, r := range rs {
		if r.M == name {
			n++
		}
	}
	return n
}

func key(k string, v float64) mpptest.Note { return mpptest.Start(k, v) }
