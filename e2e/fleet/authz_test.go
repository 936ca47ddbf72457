package fleet_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/e2e/fleet"
	gcodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The authorization policy of every RPC, as the fleet enforces it: one
// row per RPC of the generated code, one column per kind of caller, and
// in each cell the gRPC code that caller gets.
//
// Callers: anonymous (no token), guest, member, owner (of the room the
// request is about; for requests about a user, the user themself),
// pro, moderator, admin, other (a member acting on someone else's
// resource: another user's profile, stats or permissions), and forged (no
// token and no service key, but identity metadata claiming an admin).
//
// Each cell is what the caller gets at the door it can reach: the REST
// gateway of the edge where the RPC is routed (api/proto/http.yaml), and
// otherwise the RPC on its gRPC port through a service holding the
// fleet's key, as the edge or another service calls it for that caller
// (for forged: the gRPC port without a key). Besides the cells, two rules
// hold for every row and are checked on every row:
//   - a routed RPC answers a service holding the key and carrying the
//     caller's token exactly as it answers REST;
//   - on a gRPC port without the service credential, every caller gets
//     Unauthenticated, whatever token or metadata it sends (on all six
//     servers for the DiagnosticsService).
//
// Codes: OK, Unauth (Unauthenticated), Denied (PermissionDenied), Invalid
// (InvalidArgument), NotFound, Precond (FailedPrecondition).
var policy = []string{
	// RPC                                 anonym  guest   member  owner   pro     mod     admin   other   forged
	// --- UserService: accounts, sessions, profiles, friends, roles. Discord
	// login is off in the fleet (no client id), hence OAuth's Precond.
	"UserService/BanAccount                 Unauth  Denied  Denied  Denied  Denied  Denied  OK      Denied  Unauth",
	"UserService/CreateGuest                OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/GetUser                    OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/GrantRole                  Unauth  Denied  Denied  Denied  Denied  Denied  OK      Denied  Unauth",
	"UserService/Jwks                       OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/ListFriends                Unauth  OK      OK      OK      OK      OK      OK      OK      Unauth",
	"UserService/Login                      OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/Logout                     OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/Me                         Unauth  OK      OK      OK      OK      OK      OK      OK      Unauth",
	"UserService/OAuthCallback              Precond Precond Precond Precond Precond Precond Precond Precond Precond",
	"UserService/OAuthStart                 Precond Precond Precond Precond Precond Precond Precond Precond Precond",
	"UserService/Refresh                    OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/Register                   OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/RevokeRole                 Unauth  Denied  Denied  Denied  Denied  Denied  OK      Denied  Unauth",
	"UserService/SearchUsers                OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/SetBadges                  Unauth  Denied  Denied  Denied  Denied  Denied  OK      Denied  Unauth",
	"UserService/UnbanAccount               Unauth  Denied  Denied  Denied  Denied  Denied  OK      Denied  Unauth",
	"UserService/UpdateFriend               Unauth  Precond OK      OK      OK      OK      OK      OK      Unauth",
	"UserService/UpdatePresence             Unauth  OK      OK      OK      OK      Denied  OK      Denied  Unauth",
	"UserService/UpdateProfile              Unauth  OK      OK      OK      OK      Denied  OK      Denied  Unauth",
	"UserService/ValidatePermission         OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"UserService/VerifyToken                OK      OK      OK      OK      OK      OK      OK      OK      OK",
	// --- RoomService: the owner and staff run a room; chat is for those seated
	// in it (NOT_IN_ROOM, Precond), chat moderation for staff; private rooms
	// are listed to staff only (include_private).
	"RoomService/ChatHistory                Unauth  Precond OK      OK      Precond OK      OK      Precond Unauth",
	"RoomService/ClaimOwnership             Unauth  Precond Denied  OK      Precond Precond Precond Precond Unauth",
	"RoomService/ClearChat                  Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"RoomService/CreateRoom                 Unauth  OK      OK      OK      OK      OK      OK      OK      Unauth",
	"RoomService/DeleteChatMessage          Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"RoomService/DeleteRoom                 Unauth  Denied  Denied  OK      Denied  OK      OK      Denied  Unauth",
	"RoomService/GetRoom                    OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"RoomService/JoinRoom                   Unauth  OK      OK      OK      OK      OK      OK      OK      Unauth",
	"RoomService/Kick                       Unauth  Denied  Denied  OK      Denied  OK      OK      Denied  Unauth",
	"RoomService/LeaveRoom                  Unauth  Denied  OK      Denied  Denied  OK      OK      Denied  Unauth",
	"RoomService/ListMembers                Unauth  OK      OK      OK      OK      OK      OK      OK      Unauth",
	"RoomService/ListRooms                  Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"RoomService/SendChat                   Unauth  Precond OK      OK      Precond Precond Precond Precond Unauth",
	"RoomService/SetMaintenance             Unauth  Denied  Denied  Denied  Denied  Denied  OK      Denied  Unauth",
	"RoomService/TransferOwnership          Unauth  Denied  Denied  OK      Denied  OK      OK      Denied  Unauth",
	"RoomService/Unban                      Unauth  Denied  Denied  OK      Denied  OK      OK      Denied  Unauth",
	"RoomService/UpdateRoomSettings         Unauth  Denied  Denied  OK      Denied  OK      OK      Denied  Unauth",
	// --- StateService: services only. It trusts any peer holding the key
	// (it is the edge and the services that decide); only GetConfig is on
	// REST, read-only, for everyone.
	"StateService/AddUserToRoom             OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/ChatHistory               OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/ClearChat                 OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/ConsumeRefreshToken       OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/DeleteChatMessage         OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/DeleteRoom                OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/GetConfig                 OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"StateService/GetPresence               OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/GetRoom                   OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/GetUser                   OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/Heartbeat                 OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/Hit                       OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/KickFromRoom              OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/ListFriendIDs             OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/ListInstancePresence      OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/ListInstances             OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/ListRooms                 OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/PublishRoomEvent          OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/PublishUserEvent          OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/RemoveUserFromRoom        OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/RestoreInstance           OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/RevokeTokenFamily         OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/RoomMembers               OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/SaveChatMessage           OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/SaveRoom                  OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/SaveUser                  OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/SetConfig                 OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/SetFriendStatus           OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/SetOffline                OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/SetOnline                 OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/StoreRefreshToken         OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	"StateService/UnbanFromRoom             OK      OK      OK      OK      OK      OK      OK      OK      Unauth",
	// --- ConnectionService: the edge's admin API, staff only.
	"ConnectionService/Broadcast            Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"ConnectionService/CloseConnection      Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"ConnectionService/ListConnections      Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	// --- AnalyticsService: stats and songs are public; events and plays are
	// recorded for oneself (staff for anyone), songs added by staff.
	"AnalyticsService/CreateSong            Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"AnalyticsService/EventCounts           OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/FavoriteSong          Unauth  OK      OK      OK      OK      OK      OK      OK      Unauth",
	"AnalyticsService/GetPlayerSongStats    OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/GetSong               OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/GetUserStats          OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/Leaderboard           OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/ListSongs             OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/RecommendSongs        OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/RecordSongPlay        Unauth  OK      OK      OK      OK      OK      OK      Denied  Unauth",
	"AnalyticsService/TopSongs              OK      OK      OK      OK      OK      OK      OK      OK      OK",
	"AnalyticsService/Track                 Unauth  OK      OK      OK      OK      OK      OK      Denied  Unauth",
	// --- MonitorService: status is public, error reports from anyone signed
	// in, errors, logs and log levels for staff.
	"MonitorService/ErrorRates              Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"MonitorService/ListErrorGroups         Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"MonitorService/ListLogLevels           Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"MonitorService/RecentLogs              Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"MonitorService/ReportError             Unauth  OK      OK      OK      OK      OK      OK      OK      Unauth",
	"MonitorService/SetLogLevel             Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"MonitorService/Status                  OK      OK      OK      OK      OK      OK      OK      OK      OK",
	// --- DiagnosticsService: on every server, for the monitor and staff.
	"DiagnosticsService/GetDiagnostics      Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
	"DiagnosticsService/SetLogLevel         Unauth  Denied  Denied  Denied  Denied  OK      OK      Denied  Unauth",
}

var codeNames = map[string]gcodes.Code{
	"OK": gcodes.OK, "Unauth": gcodes.Unauthenticated, "Denied": gcodes.PermissionDenied, "Invalid": gcodes.InvalidArgument,
	"NotFound": gcodes.NotFound, "Precond": gcodes.FailedPrecondition, "Exists": gcodes.AlreadyExists,
	"Limit": gcodes.ResourceExhausted, "Unimpl": gcodes.Unimplemented,
}

func shortCode(c gcodes.Code) string {
	for k, v := range codeNames {
		if v == c {
			return k
		}
	}
	return c.String()
}

// TestAuthorizationTable runs every cell of the policy against the six
// service programs as separate processes (one fleet: edge, room, state,
// user, analytics, monitor, real Redis, MongoDB-wire server).
// AUTHZ_RECORD=1 prints the rows as observed instead of checking them.
func TestAuthorizationTable(t *testing.T) {
	rows := map[string][numWho]gcodes.Code{}
	for _, line := range policy {
		cells := strings.Fields(line)
		rpc := cells[0]
		cells = cells[1:]
		if len(cells) != int(numWho) {
			t.Fatalf("row %s has %d cells, want %d", rpc, len(cells), numWho)
		}
		var want [numWho]gcodes.Code
		for i, c := range cells {
			code, ok := codeNames[c]
			if !ok {
				t.Fatalf("row %s: unknown code %q", rpc, c)
			}
			want[i] = code
		}
		if _, dup := rows[rpc]; dup {
			t.Fatalf("two rows for %s", rpc)
		}
		rows[rpc] = want
	}
	record := os.Getenv("AUTHZ_RECORD") != ""
	// Every RPC of the generated code has a row and a request; every row
	// names one.
	var all []string
	protoregistry.GlobalFiles.RangeFilesByPackage("pianorhythm.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				all = append(all, string(sd.Name())+"/"+string(sd.Methods().Get(j).Name()))
			}
		}
		return true
	})
	slices.Sort(all)
	if len(all) < 90 {
		t.Fatalf("only %d RPCs found in the generated code", len(all))
	}
	for _, rpc := range all {
		if _, ok := rows[rpc]; !ok && !record {
			t.Errorf("%s has no row in the authorization table: decide who may call it", rpc)
		}
		if _, ok := requests[rpc]; !ok {
			t.Errorf("%s has no request in authz_requests_test.go", rpc)
		}
	}
	for rpc := range rows {
		if !slices.Contains(all, rpc) {
			t.Errorf("row %s names no RPC of the generated code", rpc)
		}
	}
	if t.Failed() {
		return
	}

	f := fleet.New(t, fleet.Layout{Env: []string{"PR_TRUSTED_PROXIES=127.0.0.1", "PR_ADMINS=authzadmin"}})
	start := time.Now()
	f.StartAll()
	s := newScene(t, f)
	t.Logf("fleet started and callers registered in %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()

	var mu sync.Mutex
	observed := map[string]string{}
	var calls int
	t.Run("rows", func(t *testing.T) {
		for _, rpc := range all {
			t.Run(strings.ReplaceAll(rpc, "/", "."), func(t *testing.T) {
				t.Parallel()
				got, n := s.row(t, rpc, rows[rpc], record)
				mu.Lock()
				observed[rpc], calls = got, calls+n
				mu.Unlock()
			})
		}
	})
	t.Logf("figures: authorization table of %d RPCs x %d callers (%d calls, setup included) in %v",
		len(all), numWho, calls, time.Since(start).Round(time.Millisecond))
	if record {
		var b strings.Builder
		for _, rpc := range all {
			fmt.Fprintf(&b, "\t\"%-38s %s\",\n", rpc, observed[rpc])
		}
		t.Logf("observed rows:\n%s", b.String())
	}
}

// row checks one RPC for every caller and returns the cells as observed
// and the number of calls made.
func (s *scene) row(t *testing.T, rpc string, want [numWho]gcodes.Code, record bool) (string, int) {
	full := "/pianorhythm.v1." + rpc
	_, routed := s.rules[full]
	proc := process(full)
	var cells []string
	calls := 0
	for c := range numWho {
		req := requests[rpc](s, c)
		var got gcodes.Code
		var msg string
		switch {
		case routed:
			got, msg = s.rest(c, full, req)
		case c == byForged:
			got = s.unsigned(proc, c, full, req)
		default:
			_, err := s.call(c, full, req)
			got, msg = codeOf(err)
		}
		calls++
		cells = append(cells, shortCode(got))
		if !record && got != want[c] {
			t.Errorf("%s as %s: %s (%s), want %s", rpc, c, got, msg, want[c])
		}
		if routed && c != byForged {
			// The same request made by a service for the caller.
			_, err := s.call(c, full, requests[rpc](s, c))
			calls++
			if code, m := codeOf(err); code != got {
				t.Errorf("%s as %s: REST answers %s, a service calling for the caller gets %s (%s)", rpc, c, got, code, m)
			}
		}
		// Without the service credential, whoever: Unauthenticated.
		procs := []string{proc}
		if strings.HasPrefix(rpc, "DiagnosticsService/") {
			procs = []string{"state-1", "user", "room-1", "edge-1", "analytics", "monitor"}
		}
		for _, p := range procs {
			calls++
			if code := s.unsigned(p, c, full, req); code != gcodes.Unauthenticated {
				t.Errorf("%s on %s's port without a service credential, as %s: %s, want Unauthenticated", rpc, p, c, code)
			}
		}
	}
	return strings.Join(cells, " "), calls
}

func codeOf(err error) (gcodes.Code, string) {
	if err == nil {
		return gcodes.OK, ""
	}
	st, _ := statusOf(err)
	return st.Code(), st.Message()
}

func statusOf(err error) (*status.Status, bool) { return status.FromError(err) }
