package usersvc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/user/usersvc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestRESTUpdateProfile(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	a := e.register("gina")
	var u pb.User
	e.must("PATCH", "/v1/users/me", a.GetAccessToken(), &pb.UpdateProfileRequest{
		DisplayName: ptr("Gina G"), Color: ptr("#112233"), StatusText: ptr("practising"), Description: ptr("I play Satie."),
	}, &u)
	if u.GetDisplayName() != "Gina G" || u.GetColor() != "#112233" || u.GetStatusText() != "practising" || u.GetDescription() != "I play Satie." {
		t.Fatalf("updated = %v", &u)
	}
	// Only the fields sent change.
	e.must("PATCH", "/v1/users/me", a.GetAccessToken(), &pb.UpdateProfileRequest{StatusText: ptr("")}, &u)
	if u.GetStatusText() != "" || u.GetColor() != "#112233" {
		t.Fatalf("partial update = %v", &u)
	}
	// The user's connections hear about it.
	evs := e.state.Events()
	if last := evs[len(evs)-1]; last.GetUserId() != u.GetId() || last.GetProfile().GetDisplayName() != "Gina G" {
		t.Fatalf("last event = %v", last)
	}
	bad := []*pb.UpdateProfileRequest{
		{DisplayName: ptr("")},
		{DisplayName: ptr(strings.Repeat("n", 41))},
		{Color: ptr("red")},
		{Color: ptr("#12345g")},
		{StatusText: ptr(strings.Repeat("s", 129))},
		{Description: ptr(strings.Repeat("d", 1001))},
	}
	for _, r := range bad {
		if code, ae := e.call("PATCH", "/v1/users/me", a.GetAccessToken(), r, nil); code != http.StatusBadRequest || ae.reason() != "INVALID_ARGUMENT" {
			t.Errorf("update %v = %d %v", r, code, ae)
		}
	}
	// Members may not edit others.
	b := e.register("hank")
	if code, _ := e.call("PATCH", "/v1/users/me", b.GetAccessToken(), &pb.UpdateProfileRequest{UserId: u.GetId(), Color: ptr("#000000")}, nil); code != http.StatusForbidden {
		t.Fatalf("edit other = %d, want 403", code)
	}
	var got pb.User
	e.must("GET", "/v1/users/"+u.GetId(), "", nil, &got)
	if got.GetDisplayName() != "Gina G" {
		t.Fatalf("get user = %v", &got)
	}
}

func TestRESTSearch(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	for _, n := range []string{"pianoman", "PianoGirl", "pia_3", "other", "pix"} {
		e.register(n)
	}
	tok := e.register("searcher").GetAccessToken()
	var page pb.SearchUsersResponse
	e.must("GET", "/v1/users?prefix=PIA&page_size=2", tok, nil, &page)
	var names []string
	for _, u := range page.GetUsers() {
		names = append(names, u.GetUsername())
	}
	if len(names) != 2 || page.GetNextPageToken() == "" {
		t.Fatalf("page 1 = %v next %q", names, page.GetNextPageToken())
	}
	e.must("GET", "/v1/users?prefix=PIA&page_size=2&page_token="+page.GetNextPageToken(), tok, nil, &page)
	for _, u := range page.GetUsers() {
		names = append(names, u.GetUsername())
	}
	if strings.Join(names, ",") != "pia_3,PianoGirl,pianoman" || page.GetNextPageToken() != "" {
		t.Fatalf("all = %v next %q", names, page.GetNextPageToken())
	}
	for _, q := range []string{"/v1/users?prefix=", "/v1/users?prefix=p&page_token=zzz", "/v1/users?prefix=p&page_size=-1"} {
		if code, _ := e.call("GET", q, tok, nil, nil); code != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", q, code)
		}
	}
}

func TestRESTAdminRolesAndBans(t *testing.T) {
	e := newEnv(t, usersvc.Config{Admins: []string{"Root"}})
	root := e.register("root")
	if !hasRole(root.GetUser(), pb.Role_ADMIN) {
		t.Fatalf("bootstrap admin roles = %v", root.GetUser().GetRoles())
	}
	m := e.register("member")
	target := e.register("target")

	t.Run("member gets PermissionDenied", func(t *testing.T) {
		paths := []struct{ method, path string }{
			{"POST", "/v1/admin/users/" + target.GetUser().GetId() + "/roles"},
			{"POST", "/v1/admin/users/" + target.GetUser().GetId() + "/ban"},
			{"DELETE", "/v1/admin/users/" + target.GetUser().GetId() + "/ban"},
			{"PUT", "/v1/admin/users/" + target.GetUser().GetId() + "/badges"},
			{"DELETE", "/v1/admin/users/" + target.GetUser().GetId() + "/roles/PRO"},
		}
		for _, p := range paths {
			var body *pb.GrantRoleRequest
			if p.method != "DELETE" {
				body = &pb.GrantRoleRequest{Role: pb.Role_ADMIN}
			}
			if code, ae := e.call(p.method, p.path, m.GetAccessToken(), body, nil); code != http.StatusForbidden || ae.reason() != "PERMISSION_DENIED" {
				t.Errorf("%s %s = %d %v", p.method, p.path, code, ae)
			}
		}
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+m.GetAccessToken())
		if _, err := e.client.GrantRole(ctx, &pb.GrantRoleRequest{UserId: m.GetUser().GetId(), Role: pb.Role_ADMIN}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("gRPC GrantRole by member = %v", err)
		}
	})

	var u pb.User
	e.must("POST", "/v1/admin/users/"+target.GetUser().GetId()+"/roles", root.GetAccessToken(), &pb.GrantRoleRequest{Role: pb.Role_PRO}, &u)
	if !hasRole(&u, pb.Role_PRO) {
		t.Fatalf("granted = %v", u.GetRoles())
	}
	// A fresh token carries the role; permissions follow at once.
	var perm pb.ValidatePermissionResponse
	e.must("POST", "/v1/users/"+u.GetId()+"/permissions", "", &pb.ValidatePermissionRequest{Action: pb.Action_ACTION_JOIN_PRO_ROOM}, &perm)
	if !perm.GetAllowed() {
		t.Fatalf("pro may not join pro room: %v", &perm)
	}
	e.must("DELETE", "/v1/admin/users/"+u.GetId()+"/roles/PRO", root.GetAccessToken(), nil, &u)
	if hasRole(&u, pb.Role_PRO) {
		t.Fatalf("revoked = %v", u.GetRoles())
	}
	if code, _ := e.call("POST", "/v1/admin/users/"+u.GetId()+"/roles", root.GetAccessToken(), &pb.GrantRoleRequest{Role: pb.Role_GUEST}, nil); code != http.StatusBadRequest {
		t.Fatalf("grant GUEST = %d", code)
	}
	e.must("PUT", "/v1/admin/users/"+u.GetId()+"/badges", root.GetAccessToken(), &pb.SetBadgesRequest{Badges: []string{"early", "virtuoso"}}, &u)
	if strings.Join(u.GetBadges(), ",") != "early,virtuoso" {
		t.Fatalf("badges = %v", u.GetBadges())
	}

	// A ban refuses login, refresh, and the token already issued, and
	// tells the user's connections to close.
	e.must("POST", "/v1/admin/users/"+u.GetId()+"/ban", root.GetAccessToken(), &pb.BanAccountRequest{Reason: "spam"}, &u)
	if u.GetBannedUntil() == nil {
		t.Fatal("no banned_until")
	}
	evs := e.state.Events()
	if last := evs[len(evs)-1]; last.GetDisconnect().GetCode() != 4008 {
		t.Fatalf("ban event = %v", last)
	}
	if code, ae := e.call("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "target", Password: "password-target"}, nil); code != http.StatusForbidden || ae.reason() != "BANNED" {
		t.Fatalf("banned login = %d %v", code, ae)
	}
	if code, ae := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: target.GetRefreshToken()}, nil); code != http.StatusForbidden || ae.reason() != "BANNED" {
		t.Fatalf("banned refresh = %d %v", code, ae)
	}
	if code, _ := e.call("GET", "/v1/users/me", target.GetAccessToken(), nil, nil); code != http.StatusForbidden {
		t.Fatalf("banned me = %d", code)
	}
	e.must("POST", "/v1/users/"+u.GetId()+"/permissions", "", &pb.ValidatePermissionRequest{Action: pb.Action_ACTION_CHAT}, &perm)
	if perm.GetAllowed() || perm.GetReason() != "BANNED" {
		t.Fatalf("banned chat permission = %v", &perm)
	}
	e.must("DELETE", "/v1/admin/users/"+u.GetId()+"/ban", root.GetAccessToken(), nil, &u)
	e.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "target", Password: "password-target"}, nil)

	// A timed ban ends by itself.
	e.must("POST", "/v1/admin/users/"+u.GetId()+"/ban", root.GetAccessToken(), &pb.BanAccountRequest{Duration: durationOf(time.Hour)}, &u)
	if code, _ := e.call("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "target", Password: "password-target"}, nil); code != http.StatusForbidden {
		t.Fatalf("login during timed ban = %d", code)
	}
	e.clock.Advance(2 * time.Hour)
	e.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "target", Password: "password-target"}, nil)
}

func TestValidatePermissionRows(t *testing.T) {
	e := newEnv(t, usersvc.Config{Admins: []string{"boss"}})
	boss := e.register("boss")
	mem := e.register("mem")
	grant := func(id string, r pb.Role) {
		e.must("POST", "/v1/admin/users/"+id+"/roles", boss.GetAccessToken(), &pb.GrantRoleRequest{Role: r}, nil)
	}
	pro, mod := e.register("pro"), e.register("mod")
	grant(pro.GetUser().GetId(), pb.Role_PRO)
	grant(mod.GetUser().GetId(), pb.Role_MODERATOR)
	var guest pb.AuthResponse
	e.must("POST", "/v1/auth/guest", "", &pb.CreateGuestRequest{}, &guest)
	ids := map[string]string{"guest": guest.GetUser().GetId(), "member": mem.GetUser().GetId(), "pro": pro.GetUser().GetId(), "mod": mod.GetUser().GetId(), "admin": boss.GetUser().GetId()}
	tests := []struct {
		who    string
		action pb.Action
		want   bool
	}{
		{"guest", pb.Action_ACTION_CREATE_ROOM, true},
		{"guest", pb.Action_ACTION_JOIN_PRO_ROOM, false},
		{"member", pb.Action_ACTION_CREATE_ROOM, true},
		{"member", pb.Action_ACTION_JOIN_PRO_ROOM, false},
		{"pro", pb.Action_ACTION_JOIN_PRO_ROOM, true},
		{"pro", pb.Action_ACTION_MODERATE, false},
		{"mod", pb.Action_ACTION_MODERATE, true},
		{"mod", pb.Action_ACTION_ADMIN, false},
		{"admin", pb.Action_ACTION_ADMIN, true},
		{"guest", pb.Action_ACTION_PLAY, true},
	}
	for _, tt := range tests {
		t.Run(tt.who+"/"+tt.action.String(), func(t *testing.T) {
			resp, err := e.client.ValidatePermission(context.Background(), &pb.ValidatePermissionRequest{UserId: ids[tt.who], Action: tt.action})
			if err != nil || resp.GetAllowed() != tt.want {
				t.Fatalf("= %v, %v; want %v", resp, err, tt.want)
			}
		})
	}
	if _, err := e.client.ValidatePermission(context.Background(), &pb.ValidatePermissionRequest{UserId: ids["admin"]}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("unspecified action = %v", err)
	}
	if _, err := e.client.ValidatePermission(context.Background(), &pb.ValidatePermissionRequest{UserId: "nobody", Action: pb.Action_ACTION_CHAT}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown user = %v", err)
	}
}

func TestRESTFriendsAndPresence(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	alice, bob, carl := e.register("alice"), e.register("bob"), e.register("carl")
	aid, bid := alice.GetUser().GetId(), bob.GetUser().GetId()
	events := e.state.Subscribe()

	var f pb.Friend
	e.must("POST", "/v1/friends/"+bid, alice.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, &f)
	if f.GetStatus() != pb.FriendStatus_OUTGOING || f.GetUser().GetId() != bid {
		t.Fatalf("send = %v", &f)
	}
	ev := next(t, events)
	if ev.GetUserId() != bid || ev.GetFriendUpdate().GetStatus() != pb.FriendStatus_INCOMING || ev.GetFriendUpdate().GetUser().GetId() != aid {
		t.Fatalf("request event = %v", ev)
	}
	var list pb.ListFriendsResponse
	e.must("GET", "/v1/friends", bob.GetAccessToken(), nil, &list)
	if len(list.GetFriends()) != 1 || list.GetFriends()[0].GetStatus() != pb.FriendStatus_INCOMING {
		t.Fatalf("bob's list = %v", &list)
	}
	// Accepting something that is not a request fails.
	if code, _ := e.call("POST", "/v1/friends/"+bid, alice.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_ACCEPT}, nil); code != http.StatusBadRequest {
		t.Fatalf("accept own request = %d, want 400", code)
	}
	e.must("POST", "/v1/friends/"+aid, bob.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_ACCEPT}, &f)
	if f.GetStatus() != pb.FriendStatus_ACCEPTED {
		t.Fatalf("accept = %v", &f)
	}
	if ev := next(t, events); ev.GetUserId() != aid || ev.GetFriendUpdate().GetStatus() != pb.FriendStatus_ACCEPTED {
		t.Fatalf("accept event = %v", ev)
	}

	// Bob comes online in a room: Alice hears it, and sees it in her list.
	bobCtx := auth.OutgoingContext(context.Background(), auth.Identity{UserID: bid, Roles: []pb.Role{pb.Role_MEMBER}})
	if _, err := e.client.UpdatePresence(bobCtx, &pb.UpdatePresenceRequest{UserId: bid, Online: true, RoomId: "lobby", InstanceId: "edge-1", ConnectionId: "c1"}); err != nil {
		t.Fatal(err)
	}
	ev = next(t, events)
	if ev.GetUserId() != aid || !ev.GetFriendUpdate().GetOnline() || ev.GetFriendUpdate().GetRoomId() != "lobby" || ev.GetFriendUpdate().GetUser().GetId() != bid {
		t.Fatalf("presence event = %v", ev)
	}
	e.state.SetRoom(bid, "jazz") // as the state service's AddUserToRoom does
	e.must("GET", "/v1/friends", alice.GetAccessToken(), nil, &list)
	if len(list.GetFriends()) != 1 || !list.GetFriends()[0].GetOnline() || list.GetFriends()[0].GetRoomId() != "jazz" {
		t.Fatalf("alice's list = %v", &list)
	}
	if _, err := e.client.UpdatePresence(bobCtx, &pb.UpdatePresenceRequest{UserId: bid, Online: true, RoomId: "jazz", InstanceId: "edge-1", ConnectionId: "c1"}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, events); ev.GetFriendUpdate().GetRoomId() != "jazz" {
		t.Fatalf("room change event = %v", ev)
	}
	if _, err := e.client.UpdatePresence(bobCtx, &pb.UpdatePresenceRequest{UserId: bid, Online: false, ConnectionId: "c1"}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, events); ev.GetFriendUpdate().GetOnline() {
		t.Fatalf("offline event = %v", ev)
	}
	// Nobody reports another user's presence.
	if _, err := e.client.UpdatePresence(bobCtx, &pb.UpdatePresenceRequest{UserId: aid, Online: true}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("presence of another = %v", err)
	}
	// Carl's request declined; Alice removes Bob.
	e.must("POST", "/v1/friends/"+aid, carl.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, nil)
	e.must("POST", "/v1/friends/"+carl.GetUser().GetId(), alice.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_DECLINE}, &f)
	e.must("POST", "/v1/friends/"+bid, alice.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_REMOVE}, &f)
	e.must("GET", "/v1/friends", alice.GetAccessToken(), nil, &list)
	if len(list.GetFriends()) != 0 {
		t.Fatalf("after decline and remove = %v", &list)
	}
	// Guests and self are refused; unknown users are not found.
	var g pb.AuthResponse
	e.must("POST", "/v1/auth/guest", "", &pb.CreateGuestRequest{}, &g)
	if code, _ := e.call("POST", "/v1/friends/"+aid, g.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, nil); code != http.StatusBadRequest {
		t.Fatalf("guest send = %d", code)
	}
	if code, _ := e.call("POST", "/v1/friends/"+aid, alice.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, nil); code != http.StatusBadRequest {
		t.Fatalf("self send = %d", code)
	}
	if code, _ := e.call("POST", "/v1/friends/nobody", alice.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, nil); code != http.StatusNotFound {
		t.Fatalf("unknown send = %d", code)
	}
	if code, _ := e.call("POST", "/v1/friends/"+bid, alice.GetAccessToken(), &pb.UpdateFriendRequest{}, nil); code != http.StatusBadRequest {
		t.Fatalf("no action = %d", code)
	}
}

func next(t *testing.T, c <-chan *pb.UserEvent) *pb.UserEvent {
	t.Helper()
	select {
	case ev := <-c:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no user event")
		return nil
	}
}

func hasRole(u *pb.User, r pb.Role) bool {
	for _, x := range u.GetRoles() {
		if x == r {
			return true
		}
	}
	return false
}
