package allinone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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
	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// system is one all-in-one run for the analytics tests.
type system struct {
	t    *testing.T
	sys  *allinone.System
	base string
	logs *logtest.Buffer
	cfg  allinone.Config
}

func startWith(t *testing.T, cfg allinone.Config) *system {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	free := "127.0.0.1:0"
	cfg.HTTPAddr, cfg.StateAddr, cfg.UserAddr, cfg.RoomAddr = free, free, free, free
	cfg.ConnectionAddr, cfg.AnalyticsAddr, cfg.MonitorAddr = free, free, free
	logs := &logtest.Buffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sys, err := allinone.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s := &system{t: t, sys: sys, base: strings.TrimSuffix(sys.URL(), "/"), logs: logs, cfg: cfg}
	t.Cleanup(s.stop)
	return s
}

func (s *system) stop() {
	if s.sys == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.sys.Close(ctx); err != nil {
		s.t.Errorf("Close: %v", err)
	}
	s.sys = nil
}

// call makes one REST request with a JSON body (a proto message or nil)
// and decodes a 2xx answer into out.
func (s *system) call(method, path, token string, body, out proto.Message) int {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := protojson.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 && out != nil {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	if resp.StatusCode/100 != 2 {
		s.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

func (s *system) must(method, path, token string, body, out proto.Message) {
	s.t.Helper()
	if code := s.call(method, path, token, body, out); code/100 != 2 {
		s.t.Fatalf("%s %s: status %d", method, path, code)
	}
}

func (s *system) register(name string) *pb.AuthResponse {
	s.t.Helper()
	var a pb.AuthResponse
	s.must("POST", "/v1/auth/register", "", &pb.RegisterRequest{Username: name, Password: "correct horse battery"}, &a)
	return &a
}

func (s *system) stats(id string) *pb.UserStats {
	s.t.Helper()
	var st pb.UserStats
	s.must("GET", "/v1/stats/users/"+id, "", nil, &st)
	return &st
}

// chat joins the lobby over /ws as token's user and says text.
func (s *system) chat(token, text string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(s.base, "http") + "/ws?token=" + token
	c, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{Subprotocols: []string{"pianorhythm.v1.json"}})
	if err != nil {
		s.t.Fatalf("dial /ws: %v", err)
	}
	defer c.CloseNow()
	until := func(key string) {
		s.t.Helper()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				s.t.Fatalf("read /ws waiting for %s: %v", key, err)
			}
			var m map[string]json.RawMessage
			if json.Unmarshal(b, &m) == nil {
				if _, ok := m[key]; ok {
					return
				}
				if e, ok := m["error"]; ok {
					s.t.Fatalf("/ws error waiting for %s: %s", key, e)
				}
			}
		}
	}
	until("welcome")
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"id":"1","join":{"room":"lobby"}}`)); err != nil {
		s.t.Fatal(err)
	}
	until("roomJoined")
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"id":"2","chat":{"text":"`+text+`"}}`)); err != nil {
		s.t.Fatal(err)
	}
	until("chat")
	_ = c.Close(websocket.StatusNormalClosure, "done")
}

// play joins the lobby over /ws as token's user, strikes and releases
// notes keys in one batch, and leaves once the edge has taken the batch
// (a ping sent after it is answered).
func (s *system) play(token string, notes int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(s.base, "http") + "/ws?token=" + token
	c, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{Subprotocols: []string{"pianorhythm.v1.proto"}})
	if err != nil {
		s.t.Fatalf("dial /ws: %v", err)
	}
	defer c.CloseNow()
	send := func(m *pb.ClientMessage) {
		s.t.Helper()
		b, err := proto.Marshal(m)
		if err != nil {
			s.t.Fatal(err)
		}
		if err := c.Write(ctx, websocket.MessageBinary, b); err != nil {
			s.t.Fatal(err)
		}
	}
	until := func(id string, ok func(*pb.ServerMessage) bool) {
		s.t.Helper()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				s.t.Fatalf("read /ws waiting for the answer to %s: %v", id, err)
			}
			var m pb.ServerMessage
			if proto.Unmarshal(b, &m) != nil || m.GetId() != id {
				continue
			}
			if !ok(&m) {
				s.t.Fatalf("answer to %s: %v", id, &m)
			}
			return
		}
	}
	send(&pb.ClientMessage{Id: "join", Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: "lobby"}}})
	until("join", func(m *pb.ServerMessage) bool { return m.GetRoomJoined() != nil })
	batch := &pb.NoteBatch{Time: time.Now().UnixMilli()}
	for i := range notes {
		key := uint32(40 + i%48)
		batch.Events = append(batch.Events, &pb.NoteEvent{Kind: pb.NoteKind_NOTE_ON, Note: key, Velocity: 80},
			&pb.NoteEvent{Kind: pb.NoteKind_NOTE_OFF, Note: key, DelayMs: 100})
	}
	send(&pb.ClientMessage{Id: "notes", Payload: &pb.ClientMessage_Notes{Notes: batch}})
	send(&pb.ClientMessage{Id: "ping", Payload: &pb.ClientMessage_Ping{Ping: &pb.Ping{ClientTime: 1}}})
	until("ping", func(m *pb.ServerMessage) bool { return m.GetPong() != nil })
	_ = c.Close(websocket.StatusNormalClosure, "done")
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func settledStats(s *pb.UserStats) bool {
	for _, p := range s.GetProgress() {
		if p.GetCurrent() >= p.GetThreshold() && !p.GetUnlocked() {
			return false
		}
	}
	return true
}

// TestPlayBefriendAndReadTheFiguresOverREST plays through the public
// interfaces of the all-in-one program (notes and chat over /ws, the rest
// over REST) and reads every figure back over REST: stats, achievements
// with progress, the day's leaderboard, event counts (the notes as the
// edge counts them: one NOTES event for the batch), the song's accuracy,
// the player's songs, recommendations and the status page.
func TestPlayBefriendAndReadTheFiguresOverREST(t *testing.T) {
	unique := strconv.FormatInt(time.Now().UnixNano(), 36)
	s := startWith(t, allinone.Config{
		RedisURL: os.Getenv("REDIS_URL"), MongoURI: os.Getenv("MONGODB_URI"),
		Database: "allinone_analytics_" + unique, DataDir: t.TempDir(), KeyPrefix: storetest.Prefix(t) + "analytics:",
		Admins: []string{"root"},
	})
	ann, bob := s.register("ann"), s.register("bob")
	annID, bobID := ann.GetUser().GetId(), bob.GetUser().GetId()

	// Ann plays 40 notes over /ws; the edge counts them per connection.
	s.play(ann.GetAccessToken(), 40)
	s.chat(ann.GetAccessToken(), "hello")
	s.must("POST", "/v1/friends/"+bobID, ann.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, nil)
	s.must("POST", "/v1/friends/"+annID, bob.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_ACCEPT}, nil)
	var song pb.Song
	s.must("POST", "/v1/songs/fur-elise/plays", ann.GetAccessToken(), &pb.RecordSongPlayRequest{Completed: true, Accuracy: 0.9}, &song)
	if song.GetPlays() != 1 || song.GetCompletions() != 1 || song.GetAverageAccuracy() != 0.9 {
		t.Errorf("song after the play: %v", &song)
	}
	s.must("POST", "/v1/songs/gymnopedie-1/plays", bob.GetAccessToken(), &pb.RecordSongPlayRequest{Completed: true, Accuracy: 0.8}, nil)
	s.must("POST", "/v1/songs/fur-elise/plays", bob.GetAccessToken(), &pb.RecordSongPlayRequest{}, nil)
	s.must("POST", "/v1/songs/gymnopedie-1/favorite", bob.GetAccessToken(), &pb.FavoriteSongRequest{Favorite: true}, nil)

	var st *pb.UserStats
	waitUntil(t, "ann's figures", func() bool {
		st = s.stats(annID)
		return st.GetNotesPlayed() == 40 && st.GetChatMessages() == 1 && st.GetFriends() == 1 &&
			st.GetSongsCompleted() == 1 && st.GetFriendRequestsSent() == 1 && settledStats(st)
	})
	if st.GetLogins() != 1 || st.GetRoomsJoined() < 1 || st.GetAverageAccuracy() != 0.9 || st.GetSongsPlayed() != 1 {
		t.Errorf("ann's stats: %v", st)
	}
	unlocked := map[string]bool{}
	for _, a := range st.GetAchievements() {
		unlocked[a.GetId()] = true
	}
	for _, id := range []string{"first_note", "first_chat", "first_friend", "first_song"} {
		if !unlocked[id] {
			t.Errorf("achievement %s not unlocked: %v", id, st.GetAchievements())
		}
	}
	if len(st.GetProgress()) == 0 {
		t.Error("no progress")
	}
	if b := s.stats(bobID); b.GetFriends() != 1 {
		t.Errorf("bob's friends: %v", b)
	}
	t.Logf("ann's stats: %s", protojson.Format(st))

	var lb pb.LeaderboardResponse
	s.must("GET", "/v1/stats/leaderboards/notes_played?period=day", "", nil, &lb)
	if len(lb.GetEntries()) != 1 || lb.GetEntries()[0].GetUserId() != annID || lb.GetEntries()[0].GetScore() != 40 || lb.GetPeriod() != "day" {
		t.Errorf("day leaderboard: %v", &lb)
	}
	t.Logf("day leaderboard: %s", protojson.Format(&lb))
	// Counted per type after the stats are applied: wait for the last.
	var counts pb.EventCountsResponse
	waitUntil(t, "event counts", func() bool {
		s.must("GET", "/v1/stats/events", "", nil, &counts)
		return counts.GetCounts()["song_played"] == 3 && counts.GetCounts()["song_completed"] == 2 &&
			counts.GetCounts()["connection_closed"] == 2
	})
	// Two connections of ann's (the play and the chat), each opened and
	// closed once.
	want := map[string]int64{"notes": 1, "chat": 1, "login": 2, "friend_requested": 1, "friend_added": 2, "song_played": 3, "song_completed": 2,
		"connection_opened": 2, "connection_closed": 2}
	for k, n := range want {
		if counts.GetCounts()[k] != n {
			t.Errorf("%s events: %d, want %d (all: %v)", k, counts.GetCounts()[k], n, counts.GetCounts())
		}
	}
	if counts.GetCounts()["room_joined"] == 0 {
		t.Errorf("no room_joined: %v", counts.GetCounts())
	}
	var mine pb.PlayerSongStatsResponse
	s.must("GET", "/v1/stats/users/"+annID+"/songs", "", nil, &mine)
	if len(mine.GetStats()) != 1 || mine.GetStats()[0].GetBestAccuracy() != 0.9 {
		t.Errorf("ann's songs: %v", &mine)
	}
	var rec pb.RecommendSongsResponse
	s.must("GET", "/v1/stats/users/"+annID+"/recommendations", "", nil, &rec)
	if len(rec.GetRecommendations()) == 0 || rec.GetRecommendations()[0].GetSong().GetId() != "gymnopedie-1" {
		t.Errorf("ann is recommended what bob, who played her song, liked: %v", &rec)
	}
	t.Logf("recommendations: %s", protojson.Format(&rec))

	// The status page: every service with its own figures.
	var rep pb.StatusReport
	s.must("GET", "/status?format=json", "", nil, &rep)
	for _, c := range rep.GetComponents() {
		switch c.GetName() {
		case "redis", "mongodb":
		default:
			if c.GetResources().GetGoroutines() == 0 || c.GetResources().GetMemoryBytes() == 0 || c.GetState() == "" {
				t.Errorf("%s on the status page: %v", c.GetName(), c)
			}
		}
		if c.GetName() == "analytics" {
			t.Logf("status of analytics: %s", protojson.Format(c))
		}
	}
}

// TestLogLevelChangesOverTheAdminAPI: staff set a service's log level over
// REST; its debug lines appear from then on, not before, and only its.
func TestLogLevelChangesOverTheAdminAPI(t *testing.T) {
	unique := strconv.FormatInt(time.Now().UnixNano(), 36)
	s := startWith(t, allinone.Config{
		RedisURL: os.Getenv("REDIS_URL"), MongoURI: os.Getenv("MONGODB_URI"),
		Database: "allinone_levels_" + unique, DataDir: t.TempDir(), KeyPrefix: storetest.Prefix(t) + "levels:",
		Admins: []string{"root"},
	})
	root, ann := s.register("root"), s.register("ann")
	marker := "/pianorhythm.v1.AnalyticsService/GetUserStats"
	debugLines := func() int {
		n := 0
		for _, l := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(l, marker) && strings.Contains(l, `"level":"DEBUG"`) && strings.Contains(l, `"component":"analytics"`) {
				n++
			}
		}
		return n
	}
	s.stats(ann.GetUser().GetId())
	if n := debugLines(); n != 0 {
		t.Fatalf("%d debug lines at info", n)
	}
	if code := s.call("PUT", "/v1/admin/log-levels/analytics", ann.GetAccessToken(), &pb.SetLogLevelRequest{Level: "debug"}, nil); code != http.StatusForbidden {
		t.Fatalf("a member set the level: %d", code)
	}
	var lv pb.ServiceLogLevel
	s.must("PUT", "/v1/admin/log-levels/analytics", root.GetAccessToken(), &pb.SetLogLevelRequest{Level: "debug"}, &lv)
	if lv.GetLevel() != "debug" {
		t.Fatalf("answer %v", &lv)
	}
	s.stats(ann.GetUser().GetId())
	if n := debugLines(); n != 1 {
		t.Fatalf("%d debug lines after the change, want 1:\n%s", n, s.logs.String())
	}
	var list pb.ListLogLevelsResponse
	s.must("GET", "/v1/admin/log-levels", root.GetAccessToken(), nil, &list)
	levels := map[string]string{}
	for _, l := range list.GetLevels() {
		levels[l.GetService()] = l.GetLevel()
	}
	if levels["analytics"] != "debug" || levels["state"] != "info" || levels["monitor"] != "info" || len(levels) != 6 {
		t.Errorf("levels %v", levels)
	}
	s.must("PUT", "/v1/admin/log-levels/analytics", root.GetAccessToken(), &pb.SetLogLevelRequest{Level: "info"}, nil)
	s.stats(ann.GetUser().GetId())
	if n := debugLines(); n != 1 {
		t.Errorf("%d debug lines after going back to info", n)
	}
}

// TestAnalyticsSurviveARestartOnEmbeddedStores restarts the program on its
// data directory with the embedded stores, as a person running it twice
// would: MongoDB keeps its files, the embedded Redis starts empty. The
// stats, leaderboards and songs read back the same.
func TestAnalyticsSurviveARestartOnEmbeddedStores(t *testing.T) {
	dir := t.TempDir()
	cfg := allinone.Config{DataDir: dir} // no REDIS_URL, no MONGODB_URI: both embedded
	first := startWith(t, cfg)
	ann := first.register("ann")
	id := ann.GetUser().GetId()
	first.must("POST", "/v1/songs/clair-de-lune/plays", ann.GetAccessToken(), &pb.RecordSongPlayRequest{Completed: true, Accuracy: 0.75}, nil)
	first.chat(ann.GetAccessToken(), "before the restart")
	waitUntil(t, "figures applied", func() bool {
		st := first.stats(id)
		return st.GetChatMessages() == 1 && st.GetSongsCompleted() == 1 && settledStats(st)
	})
	read := func(s *system) map[string]string {
		out := map[string]string{}
		get := func(name, path string, m proto.Message) {
			s.must("GET", path, "", nil, m)
			b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
			out[name] = string(b)
		}
		get("stats", "/v1/stats/users/"+id, &pb.UserStats{})
		get("chat board", "/v1/stats/leaderboards/chat_messages?period=day", &pb.LeaderboardResponse{})
		get("song board", "/v1/stats/leaderboards/songs_completed?period=week", &pb.LeaderboardResponse{})
		get("song", "/v1/songs/clair-de-lune", &pb.Song{})
		get("songs", "/v1/stats/users/"+id+"/songs", &pb.PlayerSongStatsResponse{})
		get("top", "/v1/songs:top", &pb.ListSongsResponse{})
		return out
	}
	before := read(first)
	first.stop()

	second := startWith(t, cfg)
	var login pb.AuthResponse
	second.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "ann", Password: "correct horse battery"}, &login)
	after := read(second)
	for name, want := range before {
		if after[name] != want {
			t.Errorf("%s changed across the restart", name)
		}
	}
}
