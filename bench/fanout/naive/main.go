// Command naive is the plain reference relay of bench/fanout: the
// simplest room relay that speaks the part of PianoRhythm's /ws protocol
// (subprotocol pianorhythm.v1.proto) that the load generator uses:
// welcome, join (any name, no rules), notes. A map of rooms under one
// mutex; a batch is marshalled once per recipient and written to each in
// turn from the sender's read loop. No quota, no auth, no Redis, no
// limits: it is the floor our edge is compared with, never a product.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/proto"
)

type relay struct {
	mu    sync.Mutex
	rooms map[string]map[*client]struct{}
	ids   atomic.Int64
}

type client struct {
	id   string
	ws   *websocket.Conn
	room string
}

func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ws, err := websocket.Accept(w, req, &websocket.AcceptOptions{Subprotocols: []string{"pianorhythm.v1.proto"}})
	if err != nil {
		return
	}
	c := &client{id: strconv.FormatInt(r.ids.Add(1), 10), ws: ws}
	defer func() {
		r.leave(c)
		_ = ws.CloseNow()
	}()
	ctx := req.Context()
	r.send(ctx, c, &pb.ServerMessage{Payload: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{ConnectionId: c.id}}})
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var m pb.ClientMessage
		if proto.Unmarshal(b, &m) != nil {
			continue
		}
		switch p := m.Payload.(type) {
		case *pb.ClientMessage_Join:
			r.leave(c)
			r.mu.Lock()
			c.room = p.Join.GetRoom()
			if r.rooms[c.room] == nil {
				r.rooms[c.room] = make(map[*client]struct{})
			}
			r.rooms[c.room][c] = struct{}{}
			r.mu.Unlock()
			r.send(ctx, c, &pb.ServerMessage{Id: m.GetId(), Payload: &pb.ServerMessage_RoomJoined{RoomJoined: &pb.RoomJoined{Room: &pb.Room{Id: c.room}}}})
		case *pb.ClientMessage_Notes:
			p.Notes.UserId = c.id
			r.mu.Lock()
			for o := range r.rooms[c.room] {
				if o != c {
					r.send(ctx, o, &pb.ServerMessage{Payload: &pb.ServerMessage_Notes{Notes: p.Notes}})
				}
			}
			r.mu.Unlock()
		}
	}
}

// send marshals m for one recipient and writes it (bounded by a second).
func (r *relay) send(ctx context.Context, c *client, m *pb.ServerMessage) {
	b, err := proto.Marshal(m)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageBinary, b)
}

func (r *relay) leave(c *client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.room == "" {
		return
	}
	delete(r.rooms[c.room], c)
	if len(r.rooms[c.room]) == 0 {
		delete(r.rooms, c.room)
	}
	c.room = ""
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18490", "listen address (/ws)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mux := http.NewServeMux()
	mux.Handle("/ws", &relay{rooms: make(map[string]map[*client]struct{})})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "naive:", err)
		os.Exit(1)
	}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Println("naive relay on ws://" + ln.Addr().String() + "/ws")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "naive:", err)
		os.Exit(1)
	}
}
