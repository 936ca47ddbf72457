package edge

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// writes records each Write the kernel would see.
type writes struct {
	net.Conn
	calls [][]byte
}

func (w *writes) Write(p []byte) (int, error) {
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

// TestCorkSendsABatchInOneWrite: frames written while corked reach the
// socket in one write, in order; uncorked writes go straight through; a
// batch past corkMax is not held back whole; between batches the
// connection holds no buffer.
func TestCorkSendsABatchInOneWrite(t *testing.T) {
	w := &writes{}
	c := &corkConn{Conn: w}
	if _, err := c.Write([]byte("a")); err != nil || len(w.calls) != 1 {
		t.Fatalf("uncorked write: %v, %d calls", err, len(w.calls))
	}
	c.cork()
	for _, f := range []string{"one", "two", "three"} {
		if _, err := c.Write([]byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.calls) != 1 {
		t.Fatalf("%d writes while corked, want none", len(w.calls)-1)
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 2 || string(w.calls[1]) != "onetwothree" {
		t.Fatalf("writes %q, want the batch in one", w.calls)
	}

	c.cork()
	big := bytes.Repeat([]byte("x"), corkMax)
	_, _ = c.Write([]byte("head"))
	_, _ = c.Write(big)
	_ = c.uncork()
	var got []byte
	for _, call := range w.calls[2:] {
		got = append(got, call...)
	}
	if string(got) != "head"+string(big) {
		t.Fatalf("big batch reordered or lost (%d bytes)", len(got))
	}
	if c.buf != nil {
		t.Fatalf("kept a %d-byte buffer after the batch", cap(*c.buf))
	}
}

// countingListener counts the Write calls on the connections it accepts.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// TestHijackedBuffersAreSmall: with the small buffers a server's WebSocket
// connection holds for its life, it still sends a large frame in one
// syscall when corked and reads frames larger than its buffer whole.
func TestHijackedBuffersAreSmall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	big := bytes.Repeat([]byte("n"), 20<<10)
	type result struct {
		got      [][]byte
		sockets  int64
		writeErr error
	}
	done := make(chan result, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		defer func() { done <- res }()
		cw := &corkWriter{ResponseWriter: w}
		ws, err := websocket.Accept(cw, r, nil)
		if err != nil {
			res.writeErr = err
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(1 << 20)
		for range 2 {
			_, b, err := ws.Read(r.Context())
			if err != nil {
				res.writeErr = err
				return
			}
			res.got = append(res.got, b)
		}
		before := cl.writes.Load()
		cw.conn.cork()
		res.writeErr = ws.Write(r.Context(), websocket.MessageBinary, big)
		if err := cw.conn.uncork(); res.writeErr == nil {
			res.writeErr = err
		}
		res.sockets = cl.writes.Load() - before
		_, _, _ = ws.Read(r.Context()) // until the client closes
	})}
	go func() { _ = srv.Serve(cl) }()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	for _, m := range [][]byte{[]byte("hi"), big} {
		if err := c.Write(ctx, websocket.MessageBinary, m); err != nil {
			t.Fatal(err)
		}
	}
	_, echo, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	res := <-done
	if res.writeErr != nil {
		t.Fatal(res.writeErr)
	}
	if len(res.got) != 2 || string(res.got[0]) != "hi" || !bytes.Equal(res.got[1], big) {
		t.Fatalf("server read %d frames, want the client's two whole", len(res.got))
	}
	if !bytes.Equal(echo, big) {
		t.Fatalf("client read %d bytes, want %d", len(echo), len(big))
	}
	if res.sockets != 1 {
		t.Fatalf("a corked %d-byte frame took %d socket writes, want 1", len(big), res.sockets)
	}
}

// TestHijackKeepsEarlyFrame: a frame the client sent in the same packet as
// its handshake, read by net/http into its own buffer, is the first frame
// the connection reads.
func TestHijackKeepsEarlyFrame(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(&corkWriter{ResponseWriter: w}, r, nil)
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer ws.CloseNow()
		_, b, err := ws.Read(r.Context())
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- string(b)
	}))
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := "GET / HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	mask := []byte{1, 2, 3, 4}
	frame := append([]byte{0x82, 0x80 | 5}, mask...) // FIN, binary, masked, 5 bytes
	for i, b := range []byte("early") {
		frame = append(frame, b^mask[i%4])
	}
	if _, err := nc.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "early" {
			t.Fatalf("first frame read %q, want \"early\"", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the frame sent with the handshake was never read")
	}
}
