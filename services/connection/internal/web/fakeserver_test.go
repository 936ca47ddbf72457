package web_test

// fakeServer speaks enough of the JSON WebSocket protocol for the page to
// be exercised alone: guests with tokens, rooms with passwords and owners,
// note fan-out, chat with history, ping/pong, room list, profiles and a note
// quota. It is a hand-written fake of the edge for testing the client's
// logic; the real system is tested by e2e/browser in the root module.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pianorhythm/server/services/connection/internal/web"
)

type obj = map[string]any

type fakeClient struct {
	conn   *websocket.Conn
	userID string
	room   string
	wmu    sync.Mutex // serializes writes
}

type fakeRoom struct {
	id, name, password, owner string
	public, lobby             bool
	members                   []*fakeClient
	chat                      []obj
}

type fakeServer struct {
	*httptest.Server
	mu      sync.Mutex
	users   map[string]obj // id -> user
	tokens  map[string]string
	rooms   map[string]*fakeRoom
	clients map[*fakeClient]bool
	seq     int
	wg      sync.WaitGroup
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{
		users:   map[string]obj{},
		tokens:  map[string]string{},
		rooms:   map[string]*fakeRoom{"lobby": {id: "lobby", name: "Lobby", public: true, lobby: true}},
		clients: map[*fakeClient]bool{},
	}
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.HandleFunc("/ws", f.serveWS)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	f.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.dropAll()
		f.Server.Close()
		f.wg.Wait()
	})
	return f
}

var fakeColors = []string{"#ff7eb6", "#5ad1a3", "#7e8cff", "#f3b75b", "#4fc3f7"}

func (f *fakeServer) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"pianorhythm.v1.json"}})
	if err != nil {
		return
	}
	f.wg.Add(1)
	defer f.wg.Done()
	if conn.Subprotocol() != "pianorhythm.v1.json" {
		conn.Close(websocket.StatusPolicyViolation, "subprotocol pianorhythm.v1.json required")
		return
	}
	f.mu.Lock()
	id, ok := f.tokens[r.URL.Query().Get("token")]
	if !ok {
		f.seq++
		id = fmt.Sprintf("guest%d", f.seq)
		f.users[id] = obj{"id": id, "displayName": fmt.Sprintf("Guest %d", f.seq), "color": fakeColors[f.seq%len(fakeColors)], "guest": true, "roles": []string{"GUEST"}}
		f.tokens["tok-"+id] = id
	}
	c := &fakeClient{conn: conn, userID: id}
	f.clients[c] = true
	user := f.users[id]
	f.mu.Unlock()

	ctx := r.Context()
	f.send(c, obj{"welcome": obj{"user": user, "connectionId": fmt.Sprintf("c%p", c), "serverTime": now(), "token": "tok-" + id}})
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			break
		}
		var msg map[string]json.RawMessage
		if json.Unmarshal(data, &msg) != nil {
			continue
		}
		f.handle(c, msg)
	}
	f.mu.Lock()
	delete(f.clients, c)
	f.leaveLocked(c, "disconnected")
	f.mu.Unlock()
}

func now() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }

func (f *fakeServer) send(c *fakeClient, m obj) {
	b, _ := json.Marshal(m)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.conn.Write(ctx, websocket.MessageText, b)
}

// broadcastLocked sends m to the members of room except skip; f.mu held.
func (f *fakeServer) broadcastLocked(room *fakeRoom, skip *fakeClient, m obj) {
	for _, c := range room.members {
		if c != skip {
			f.send(c, m)
		}
	}
}

func (f *fakeServer) roomJSON(r *fakeRoom) obj {
	return obj{"id": r.id, "settings": obj{"name": r.name, "public": r.public, "maxPlayers": 20}, "ownerId": r.owner,
		"lobby": r.lobby, "hasPassword": r.password != "", "memberCount": len(r.members)}
}

func (f *fakeServer) handle(c *fakeClient, msg map[string]json.RawMessage) {
	var id string
	_ = json.Unmarshal(msg["id"], &id)
	reply := func(m obj) {
		if id != "" {
			m["id"] = id
		}
		f.send(c, m)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case msg["ping"] != nil:
		var p struct{ ClientTime json.Number }
		_ = json.Unmarshal(msg["ping"], &p)
		reply(obj{"pong": obj{"clientTime": p.ClientTime.String(), "serverTime": now()}})
	case msg["join"] != nil:
		var j struct {
			Room, Password string
			Create         bool
			Settings       struct {
				Name     string
				Password string
				Public   bool
			}
		}
		_ = json.Unmarshal(msg["join"], &j)
		room := f.rooms[j.Room]
		if room == nil {
			if !j.Create {
				reply(obj{"error": obj{"code": "NOT_FOUND", "message": "no such room"}})
				return
			}
			room = &fakeRoom{id: j.Room, name: j.Settings.Name, password: j.Settings.Password, public: j.Settings.Public, owner: c.userID}
			f.rooms[j.Room] = room
		} else if room.password != "" && room.password != j.Password && room.owner != c.userID {
			reply(obj{"error": obj{"code": "WRONG_PASSWORD", "message": "wrong password"}})
			return
		}
		f.leaveLocked(c, "moved")
		c.room = room.id
		room.members = append(room.members, c)
		members := []obj{}
		for _, m := range room.members {
			members = append(members, obj{"user": f.users[m.userID]})
		}
		reply(obj{"roomJoined": obj{"room": f.roomJSON(room), "members": members, "chatHistory": room.chat}})
		f.broadcastLocked(room, c, obj{"userJoined": obj{"roomId": room.id, "member": obj{"user": f.users[c.userID]}}})
	case msg["notes"] != nil:
		room := f.rooms[c.room]
		if room == nil {
			reply(obj{"error": obj{"code": "NOT_IN_ROOM", "message": "join a room first"}})
			return
		}
		var b obj
		_ = json.Unmarshal(msg["notes"], &b)
		b["userId"] = c.userID
		f.broadcastLocked(room, c, obj{"notes": b})
		evs, _ := b["events"].([]any)
		f.send(c, obj{"noteQuota": obj{"allowance": 600 - len(evs), "max": 600}})
	case msg["chat"] != nil:
		room := f.rooms[c.room]
		if room == nil {
			reply(obj{"error": obj{"code": "NOT_IN_ROOM", "message": "join a room first"}})
			return
		}
		var ch struct{ Text string }
		_ = json.Unmarshal(msg["chat"], &ch)
		f.seq++
		u := f.users[c.userID]
		m := obj{"id": fmt.Sprintf("m%d", f.seq), "roomId": room.id, "userId": c.userID, "displayName": u["displayName"],
			"color": u["color"], "text": ch.Text, "sentAt": time.Now().UTC().Format(time.RFC3339Nano)}
		room.chat = append(room.chat, m)
		f.broadcastLocked(room, nil, obj{"chat": obj{"message": m}})
	case msg["listRooms"] != nil:
		rooms := []obj{}
		for _, r := range f.rooms {
			if r.public {
				rooms = append(rooms, f.roomJSON(r))
			}
		}
		reply(obj{"roomList": obj{"rooms": rooms}})
	case msg["setProfile"] != nil:
		var p struct{ Name, Color string }
		_ = json.Unmarshal(msg["setProfile"], &p)
		u := f.users[c.userID]
		if p.Name != "" {
			u["displayName"] = p.Name
		}
		if p.Color != "" {
			u["color"] = p.Color
		}
		reply(obj{"profile": obj{"user": u}})
		if room := f.rooms[c.room]; room != nil {
			f.broadcastLocked(room, c, obj{"memberUpdated": obj{"roomId": room.id, "user": u}})
		}
	case msg["friend"] != nil:
		reply(obj{"friendUpdate": obj{"friends": []obj{}}})
	default:
		reply(obj{"ack": obj{}})
	}
}

// leaveLocked removes c from its room; f.mu held.
func (f *fakeServer) leaveLocked(c *fakeClient, reason string) {
	room := f.rooms[c.room]
	c.room = ""
	if room == nil {
		return
	}
	for i, m := range room.members {
		if m == c {
			room.members = append(room.members[:i], room.members[i+1:]...)
			break
		}
	}
	f.broadcastLocked(room, nil, obj{"userLeft": obj{"roomId": room.id, "userId": c.userID, "reason": reason}})
}

// dropAll closes every connection as a restarting server would (4000).
func (f *fakeServer) dropAll() {
	f.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(f.clients))
	for c := range f.clients {
		conns = append(conns, c.conn)
	}
	f.mu.Unlock()
	for _, c := range conns {
		_ = c.Close(4000, "server closing")
	}
}
