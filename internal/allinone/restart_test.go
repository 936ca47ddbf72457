package allinone_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/internal/allinone"
)

// startOn runs the whole system on dataDir with the embedded Redis, which
// starts empty every time: a restart is the case of a person running
// `go run ./cmd/pianorhythm` again in the same directory. MongoDB is the
// embedded FerretDB under dataDir (or MONGODB_URI's database db).
func startOn(t *testing.T, dataDir, db string) *allinone.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	any := "127.0.0.1:0"
	sys, err := allinone.Start(ctx, allinone.Config{
		HTTPAddr: any, StateAddr: any, UserAddr: any, RoomAddr: any,
		ConnectionAddr: any, AnalyticsAddr: any, MonitorAddr: any,
		MongoURI: os.Getenv("MONGODB_URI"), Database: db, DataDir: dataDir,
		Admins: []string{"ann"},
	})
	if err != nil {
		t.Fatalf("Start on %s: %v", dataDir, err)
	}
	return sys
}

func stop(t *testing.T, sys *allinone.System) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sys.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// rest is a small REST client of one running system.
type rest struct {
	t    *testing.T
	base string
}

// do sends body (a proto message or nil) and decodes a 2xx answer into
// out; it returns the status code.
func (r rest) do(method, path, token string, body, out proto.Message) int {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := protojson.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(r.base, "/")+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 && out != nil {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, out); err != nil {
			r.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

func (r rest) must(method, path, token string, body, out proto.Message) {
	r.t.Helper()
	if code := r.do(method, path, token, body, out); code != http.StatusOK {
		r.t.Fatalf("%s %s = %d", method, path, code)
	}
}

// welcome connects to /ws with token and returns the welcome frame.
func welcome(t *testing.T, base, token string) *pb.Welcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http") + "/ws?token=" + url.QueryEscape(token)
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"pianorhythm.v1.json"}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m pb.ServerMessage
	if err := protojson.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if m.GetWelcome() == nil {
		t.Fatalf("first frame = %s", data)
	}
	return m.GetWelcome()
}

// TestRestartKeepsEverything writes data of every kind, stops the system,
// starts it again on the same data directory (with an empty Redis, as
// every start of the embedded one is) and finds all of it: the password
// logs in, the refresh token still works, the guest's token reconnects as
// the same guest, profiles and friends, rooms with their settings and
// bans, chat history.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	db := "restart_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sys := startOn(t, dir, db)
	r := rest{t: t, base: sys.URL()}

	var ann, bob pb.AuthResponse
	r.must("POST", "/v1/auth/register", "", &pb.RegisterRequest{Username: "ann", Password: "correct horse"}, &ann)
	r.must("POST", "/v1/auth/register", "", &pb.RegisterRequest{Username: "bob", Password: "battery staple"}, &bob)
	annID, bobID := ann.GetUser().GetId(), bob.GetUser().GetId()
	var me pb.User
	r.must("PATCH", "/v1/users/me", ann.GetAccessToken(), &pb.UpdateProfileRequest{
		DisplayName: proto.String("Ann Lee"), Color: proto.String("#123456"), StatusText: proto.String("practising"),
	}, &me)
	r.must("POST", "/v1/friends/"+bobID, ann.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, nil)
	r.must("POST", "/v1/friends/"+annID, bob.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_ACCEPT}, nil)

	var guest pb.AuthResponse
	r.must("POST", "/v1/auth/guest", "", &pb.CreateGuestRequest{}, &guest)
	guestName := welcome(t, sys.URL(), guest.GetAccessToken()).GetUser().GetDisplayName()

	r.must("POST", "/v1/rooms", ann.GetAccessToken(), &pb.CreateRoomRequest{RoomId: "jazz", Settings: &pb.RoomSettings{
		Name: proto.String("Jazz Club"), Password: proto.String("secret"), Public: proto.Bool(true),
		WelcomeMessage: proto.String("welcome %%user%%"), MaxPlayers: proto.Int32(8),
	}}, nil)
	r.must("POST", "/v1/rooms/jazz/join", ann.GetAccessToken(), &pb.JoinRoomRequest{}, nil)
	for _, text := range []string{"first", "second"} {
		r.must("POST", "/v1/rooms/jazz/chat", ann.GetAccessToken(), &pb.SendChatRequest{Text: text}, nil)
	}
	r.must("POST", "/v1/rooms/jazz/join", bob.GetAccessToken(), &pb.JoinRoomRequest{Password: "secret"}, nil)
	r.must("POST", "/v1/rooms/jazz/kick", ann.GetAccessToken(), &pb.KickRequest{UserId: bobID, BanSeconds: 3600}, nil)

	stop(t, sys)
	sys = startOn(t, dir, db)
	r = rest{t: t, base: sys.URL()}

	var login pb.AuthResponse
	r.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "ann", Password: "correct horse"}, &login)
	if login.GetUser().GetId() != annID {
		t.Fatalf("ann logs in as %s, want %s", login.GetUser().GetId(), annID)
	}
	var refreshed pb.AuthResponse
	r.must("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: ann.GetRefreshToken()}, &refreshed)
	r.must("GET", "/v1/users/me", refreshed.GetAccessToken(), nil, &me)
	if me.GetDisplayName() != "Ann Lee" || me.GetColor() != "#123456" || me.GetStatusText() != "practising" {
		t.Errorf("profile after restart = %v", &me)
	}
	var friends pb.ListFriendsResponse
	r.must("GET", "/v1/friends", login.GetAccessToken(), nil, &friends)
	if len(friends.GetFriends()) != 1 || friends.GetFriends()[0].GetUser().GetId() != bobID || friends.GetFriends()[0].GetStatus() != pb.FriendStatus_ACCEPTED {
		t.Errorf("friends after restart = %v", &friends)
	}

	w := welcome(t, sys.URL(), guest.GetAccessToken())
	if w.GetUser().GetId() != guest.GetUser().GetId() || w.GetUser().GetDisplayName() != guestName {
		t.Errorf("guest reconnects as %s %q, want %s %q", w.GetUser().GetId(), w.GetUser().GetDisplayName(), guest.GetUser().GetId(), guestName)
	}

	var rooms pb.ListRoomsResponse
	r.must("GET", "/v1/rooms", "", nil, &rooms)
	var jazz *pb.Room
	for _, room := range rooms.GetRooms() {
		if room.GetId() == "jazz" {
			jazz = room
		}
	}
	if jazz == nil || jazz.GetSettings().GetName() != "Jazz Club" || !jazz.GetHasPassword() || jazz.GetOwnerId() != annID ||
		jazz.GetSettings().GetMaxPlayers() != 8 || jazz.GetSettings().GetWelcomeMessage() != "welcome %%user%%" {
		t.Fatalf("room list after restart = %v", &rooms)
	}
	var hist pb.ChatHistoryResponse
	r.must("GET", "/v1/rooms/jazz/chat", login.GetAccessToken(), nil, &hist)
	var texts []string
	for _, m := range hist.GetMessages() {
		texts = append(texts, m.GetText())
	}
	if strings.Join(texts, ",") != "first,second" {
		t.Errorf("chat history after restart = %v", texts)
	}
	if code := r.do("POST", "/v1/rooms/jazz/join", bob.GetAccessToken(), &pb.JoinRoomRequest{Password: "secret"}, nil); code != http.StatusForbidden {
		t.Errorf("banned bob joins after restart: %d, want 403", code)
	}
	if code := r.do("POST", "/v1/rooms/jazz/join", login.GetAccessToken(), &pb.JoinRoomRequest{}, nil); code != http.StatusOK {
		t.Errorf("owner joins after restart: %d", code)
	}

	// And a third start, after a second one that wrote to restored data.
	stop(t, sys)
	sys = startOn(t, dir, db)
	t.Cleanup(func() { stop(t, sys) })
	r = rest{t: t, base: sys.URL()}
	r.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "bob", Password: "battery staple"}, &login)
	r.must("GET", "/v1/rooms/jazz", "", nil, jazz)
	if jazz.GetSettings().GetName() != "Jazz Club" {
		t.Errorf("room after the third start = %v", jazz)
	}
}
