package fleet_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/e2e/fleet"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	gcodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestAttacks re-tries, against the six programs as separate processes,
// the attacks of the security review (issue 12), each in its own subtest
// whose "figures:" line says what the attacker got.
func TestAttacks(t *testing.T) {
	f := fleet.New(t, fleet.Layout{Env: []string{"PR_ADMINS=authzadmin"}})
	f.StartAll()
	s := newScene(t, f)
	edge := "http://" + f.HTTPAddr("edge-1")

	t.Run("PasswordRoomBruteForce", func(t *testing.T) {
		room := s.unique("authz-pw-")
		ok(s.call(byOwner, "/pianorhythm.v1.RoomService/CreateRoom", &pb.CreateRoomRequest{RoomId: room,
			Settings: &pb.RoomSettings{Public: proto.Bool(true), Password: proto.String("correct horse")}}))
		// 240 wrong passwords, 8 at a time, as the review did.
		var mu sync.Mutex
		got := map[string]int{}
		var wg sync.WaitGroup
		start := time.Now()
		for w := range 8 {
			wg.Go(func() {
				for i := range 30 {
					code, reason, _ := restCall(t, edge, "POST", "/v1/rooms/"+room+"/join", s.tok[byOther], "", fmt.Sprintf(`{"password":"guess-%d-%d"}`, w, i))
					mu.Lock()
					got[fmt.Sprintf("%d %s", code, reason)]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		code, reason, msg := restCall(t, edge, "POST", "/v1/rooms/"+room+"/join", s.tok[byOther], "", `{"password":"correct horse"}`)
		t.Logf("figures: 240 wrong passwords in %v: %s; then the right one: %d %s (%s)", took.Round(time.Millisecond), histogram(got), code, reason, msg)
		if got["403 WRONG_PASSWORD"] > 20 {
			t.Errorf("more than 20 of 240 guesses were evaluated: %s", histogram(got))
		}
		if code == http.StatusOK || !strings.Contains(msg, "try again after") {
			t.Errorf("the right password straight after the attack = %d %s %q, want a lockout naming its end", code, reason, msg)
		}
		// The owner's room is not closed to its members meanwhile.
		if code, reason, msg := restCall(t, edge, "POST", "/v1/rooms/"+room+"/join", s.tok[byMember], "", `{"password":"correct horse"}`); code != http.StatusOK {
			t.Errorf("another member with the right password during the attack = %d %s %s", code, reason, msg)
		}
	})

	t.Run("ForwardedForRotation", func(t *testing.T) {
		victim := s.unique("authzxff")
		ok(s.call(byAnonymous, "/pianorhythm.v1.UserService/Register", &pb.RegisterRequest{Username: victim, Password: authzPassword}))
		got := map[string]int{}
		for i := range 40 {
			code, reason, _ := restCall(t, edge, "POST", "/v1/auth/login", "", fmt.Sprintf("198.51.%d.%d", i/250, i%250+1),
				fmt.Sprintf(`{"username":%q,"password":"wrong-%d"}`, victim, i))
			got[fmt.Sprintf("%d %s", code, reason)]++
		}
		lcode, lreason, _ := restCall(t, edge, "POST", "/v1/auth/login", "", "203.0.113.99", fmt.Sprintf(`{"username":%q,"password":%q}`, victim, authzPassword))
		reg := map[string]int{}
		for i := range 25 {
			code, reason, _ := restCall(t, edge, "POST", "/v1/auth/register", "", fmt.Sprintf("192.0.2.%d", i+1),
				fmt.Sprintf(`{"username":%q,"password":%q}`, s.unique("authzreg"), authzPassword))
			reg[fmt.Sprintf("%d %s", code, reason)]++
		}
		t.Logf("figures: 40 failed logins with a new X-Forwarded-For each: %s; the right password then: %d %s; 25 registrations with rotating X-Forwarded-For: %s",
			histogram(got), lcode, lreason, histogram(reg))
		evaluated := 0
		for k, n := range got {
			if strings.HasPrefix(k, "401 ") {
				evaluated += n
			}
		}
		if evaluated > 10 {
			t.Errorf("rotating X-Forwarded-For bought more than 10 evaluated attempts: %s", histogram(got))
		}
		if lreason != "LOCKED_OUT" {
			t.Errorf("the right password from the attacker's address = %d %s, want LOCKED_OUT", lcode, lreason)
		}
		if reg["200 "] > 20 {
			t.Errorf("rotating X-Forwarded-For registered %d accounts from one address, want at most 20", reg["200 "])
		}
	})

	t.Run("LoginLockoutSparesOthers", func(t *testing.T) {
		a, b := s.unique("authzla"), s.unique("authzlb")
		for _, u := range []string{a, b} {
			ok(s.call(byAnonymous, "/pianorhythm.v1.UserService/Register", &pb.RegisterRequest{Username: u, Password: authzPassword}))
		}
		// Ten wrong passwords for a, from behind one shared address (the
		// edge's peer, 127.0.0.1: a school, a NAT).
		for i := range 10 {
			restCall(t, edge, "POST", "/v1/auth/login", "", "", fmt.Sprintf(`{"username":%q,"password":"wrong-%d"}`, a, i))
		}
		login := func(user string) (int, string) {
			code, reason, _ := restCall(t, edge, "POST", "/v1/auth/login", "", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, authzPassword))
			return code, reason
		}
		ac, ar := login(a)
		bc, br := login(b)
		_, err := s.call(byAnonymous, "/pianorhythm.v1.UserService/Login", &pb.LoginRequest{Username: a, Password: authzPassword}) // another address
		t.Logf("figures: after 10 wrong passwords for one account from a shared address: that account there: %d %s; another account there: %d %s; that account from elsewhere: %v",
			ac, ar, bc, br, status.Code(err))
		if ar != "LOCKED_OUT" || bc != http.StatusOK || err != nil {
			t.Errorf("lockout: the attacked pair %d %s (want LOCKED_OUT), another account %d %s (want 200), elsewhere %v (want OK)", ac, ar, bc, br, err)
		}
	})

	t.Run("StandaloneAnalyticsAndMonitorWithAnAdminToken", func(t *testing.T) {
		res := map[string]string{}
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/v1/admin/errors", ""},
			{"GET", "/v1/admin/logs", ""},
			{"POST", "/v1/songs", `{"title":"Admin song","author":"A"}`},
			{"POST", "/v1/stats/events", fmt.Sprintf(`{"event":{"id":%q,"type":"EVENT_TYPE_NOTES","userId":%q,"count":1}}`, s.unique("ev-"), s.id[byMember])},
		} {
			code, reason, msg := restCall(t, edge, c.method, c.path, s.tok[byAdmin], "", c.body)
			res[c.method+" "+c.path] = fmt.Sprintf("%d %s", code, reason)
			if code != http.StatusOK {
				t.Errorf("%s %s as admin = %d %s %s, want 200", c.method, c.path, code, reason, msg)
			}
		}
		t.Logf("figures: admin token at the separately run monitor and analytics programs: %v", res)
	})

	t.Run("ForeignIssuerAndAudience", func(t *testing.T) {
		priv := ed25519.NewKeyFromSeed(f.SigningSeed())
		mint := func(cfg auth.TokenConfig) string {
			c := auth.NewClaims(auth.Identity{UserID: s.id[byAdmin], DisplayName: "Ada", Roles: []pb.Role{pb.Role_ADMIN}}, cfg, s.unique("jti-"), time.Now(), 10*time.Minute)
			tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
			tok.Header["kid"] = auth.KeyID(priv.Public().(ed25519.PublicKey))
			signed, err := tok.SignedString(priv)
			if err != nil {
				t.Fatal(err)
			}
			return signed
		}
		room := s.room()
		res := map[string]string{}
		for _, tt := range []struct {
			name string
			cfg  auth.TokenConfig
			ok   bool
		}{
			{"right key, our issuer and audience", auth.TokenConfig{}, true},
			{"right key, foreign issuer", auth.TokenConfig{Issuer: "https://evil.example"}, false},
			{"right key, foreign audience", auth.TokenConfig{Audience: "another-app"}, false},
		} {
			tok := mint(tt.cfg)
			code, reason, _ := restCall(t, edge, "GET", "/v1/rooms/"+room+"/members", tok, "", "")
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			c, werr := fleet.Dial(ctx, f.WebSocketURL("edge-1")+"?token="+url.QueryEscape(tok))
			cancel()
			ws := "welcome"
			if werr != nil {
				ws = "refused"
				if i := strings.LastIndex(werr.Error(), ": "); i >= 0 {
					ws += " (" + werr.Error()[i+2:] + ")"
				}
			} else {
				c.Close()
			}
			res[tt.name] = fmt.Sprintf("room service %d %s; edge %s", code, reason, ws)
			if (code == http.StatusOK) != tt.ok || (werr == nil) != tt.ok {
				t.Errorf("%s: room service %d %s, edge %s; want accepted=%v", tt.name, code, reason, ws, tt.ok)
			}
		}
		t.Logf("figures: tokens signed with the fleet's own key: %v", res)
	})

	t.Run("ForgedAdminMetadata", func(t *testing.T) {
		res := map[string]string{}
		for _, c := range []struct {
			proc, method string
			req          proto.Message
		}{
			{"room-1", "/pianorhythm.v1.RoomService/SetMaintenance", &pb.SetMaintenanceRequest{Enabled: true}},
			{"edge-1", "/pianorhythm.v1.ConnectionService/Broadcast", &pb.BroadcastRequest{Text: "pwned"}},
			{"edge-1", "/pianorhythm.v1.ConnectionService/ListConnections", &pb.ListConnectionsRequest{}},
			{"state-1", "/pianorhythm.v1.StateService/SetConfig", &pb.SetConfigRequest{Config: &pb.ServerConfig{Maintenance: true}}},
		} {
			_, err := s.invoke(f.UnsignedConn(c.proc), byForged, c.method, c.req)
			res[c.method] = fmt.Sprintf("%v %s", status.Code(err), rpc.Reason(err))
			if status.Code(err) != gcodes.Unauthenticated {
				t.Errorf("forged ADMIN on %s: %v, want Unauthenticated", c.method, err)
			}
		}
		cfg := ok(s.call(byAdmin, "/pianorhythm.v1.StateService/GetConfig", &pb.GetConfigRequest{})).(*pb.ServerConfig)
		if cfg.GetMaintenance() {
			t.Error("maintenance is on: a forged call got through")
		}
		t.Logf("figures: forged x-pr-roles: ADMIN without a service credential: %v", res)
	})

	t.Run("BidiOverrideInChatAndNames", func(t *testing.T) {
		room := s.room()
		msg := ok(s.call(byOwner, "/pianorhythm.v1.RoomService/SendChat", &pb.SendChatRequest{RoomId: room, Text: "abc\u202Edef\u2066x"})).(*pb.ChatMessage)
		code, reason, _ := restCall(t, edge, "POST", "/v1/rooms/"+room+"/chat", s.tok[byMember], "", `{"text":"hi\u202Ethere"}`)
		_, regErr := s.call(byAnonymous, "/pianorhythm.v1.UserService/Register", &pb.RegisterRequest{Username: s.unique("authzbidi"), Password: authzPassword, DisplayName: "Ann\u202E"})
		_, profErr := s.call(byMember, "/pianorhythm.v1.UserService/UpdateProfile", &pb.UpdateProfileRequest{DisplayName: proto.String("evil\u202Eman")})
		t.Logf("figures: chat with U+202E kept as %q (REST chat: %d %s); a display name with U+202E at registration: %v, in a profile: %v",
			msg.GetText(), code, reason, status.Code(regErr), status.Code(profErr))
		if strings.ContainsAny(msg.GetText(), "\u202E\u2066") {
			t.Errorf("chat kept a bidi control: %q", msg.GetText())
		}
		if status.Code(regErr) != gcodes.InvalidArgument || status.Code(profErr) != gcodes.InvalidArgument {
			t.Errorf("names with U+202E: register %v, profile %v; want InvalidArgument", regErr, profErr)
		}
	})

	t.Run("UnicodeNameOverTheEdge", func(t *testing.T) {
		// Not an attack: a member whose display name is not ASCII joins and
		// chats over the WebSocket (the edge carries the name to the room
		// service in the identity metadata, which gRPC refused to send).
		res := ok(s.call(byAnonymous, "/pianorhythm.v1.UserService/Register", &pb.RegisterRequest{Username: s.unique("zoe"), Password: authzPassword, DisplayName: "Zoë ピアノ"})).(*pb.AuthResponse)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		c, err := fleet.Dial(ctx, f.WebSocketURL("edge-1")+"?token="+url.QueryEscape(res.GetAccessToken()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Join(ctx, s.unique("zoe-room-"), true); err != nil {
			t.Fatalf("join as Zoë: %v", err)
		}
		if r := c.Chat(ctx, "hallo", 5*time.Second); !r.OK() {
			t.Fatalf("chat as Zoë: %v", r)
		}
	})
}

// restCall makes one REST request to the edge (token and X-Forwarded-For
// when not empty) and returns the status, the refusal's reason and its
// message.
func restCall(t *testing.T, base, method, path, token, xff, body string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var e struct {
		Message string `json:"message"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	}
	_ = json.Unmarshal(b, &e)
	reason := ""
	for _, d := range e.Details {
		if d.Reason != "" {
			reason = d.Reason
		}
	}
	return res.StatusCode, reason, e.Message
}

// histogram prints counts of outcomes, most frequent first.
func histogram(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%dx %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}
