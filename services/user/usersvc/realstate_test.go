package usersvc_test

import (
	"context"
	"net/http"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/user/usersvc"
	"google.golang.org/protobuf/proto"
)

// subscriber returns the events published on one user's channel from now
// on.
func subscriber(e *env) func(channel string) <-chan *pb.UserEvent {
	return func(channel string) <-chan *pb.UserEvent {
		ps := e.state.rdb.Subscribe(context.Background(), e.state.prefix+channel)
		if _, err := ps.Receive(context.Background()); err != nil { // wait for the subscription
			e.t.Fatal(err)
		}
		out := make(chan *pb.UserEvent, 16)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for m := range ps.Channel() {
				var ev pb.UserEvent
				if proto.Unmarshal([]byte(m.Payload), &ev) == nil {
					out <- &ev
				}
			}
		}()
		e.t.Cleanup(func() { ps.Close(); <-done })
		return out
	}
}

func TestWithRealStateService(t *testing.T) {
	e := newEnv(t, usersvc.Config{Admins: []string{"root"}})
	subscribe := subscriber(e)

	t.Run("guest lives in state", func(t *testing.T) {
		var g pb.AuthResponse
		e.must("POST", "/v1/auth/guest", "", &pb.CreateGuestRequest{}, &g)
		var me pb.User
		e.must("GET", "/v1/users/me", g.GetAccessToken(), nil, &me)
		if !me.GetGuest() || me.GetId() != g.GetUser().GetId() {
			t.Fatalf("me = %v", &me)
		}
	})

	t.Run("refresh rotation, reuse, logout", func(t *testing.T) {
		reg := e.register("rita")
		var r1 pb.AuthResponse
		e.must("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: reg.GetRefreshToken()}, &r1)
		if code, _ := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: reg.GetRefreshToken()}, nil); code != http.StatusUnauthorized {
			t.Fatalf("reuse = %d", code)
		}
		if code, _ := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: r1.GetRefreshToken()}, nil); code != http.StatusUnauthorized {
			t.Fatalf("family not revoked: %d", code)
		}
		var l pb.AuthResponse
		e.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "rita", Password: "password-rita"}, &l)
		e.must("POST", "/v1/auth/logout", "", &pb.LogoutRequest{RefreshToken: l.GetRefreshToken()}, nil)
		if code, _ := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: l.GetRefreshToken()}, nil); code != http.StatusUnauthorized {
			t.Fatalf("refresh after logout = %d", code)
		}
	})

	t.Run("login rate limit", func(t *testing.T) {
		e.register("lim")
		for range 10 {
			e.call("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "lim", Password: "wrong-password"}, nil)
		}
		if code, ae := e.call("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "lim", Password: "password-lim"}, nil); code != http.StatusTooManyRequests || ae.reason() != "LOCKED_OUT" {
			t.Fatalf("11th = %d %v, want 429 LOCKED_OUT", code, ae)
		}
	})

	t.Run("friends and presence over Redis pub/sub", func(t *testing.T) {
		a, b := e.register("amy"), e.register("ben")
		aid, bid := a.GetUser().GetId(), b.GetUser().GetId()
		toBen, toAmy := subscribe("user:"+bid), subscribe("user:"+aid)
		e.must("POST", "/v1/friends/"+bid, a.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_SEND}, nil)
		if ev := next(t, toBen); ev.GetFriendUpdate().GetStatus() != pb.FriendStatus_INCOMING {
			t.Fatalf("request = %v", ev)
		}
		e.must("POST", "/v1/friends/"+aid, b.GetAccessToken(), &pb.UpdateFriendRequest{Action: pb.FriendAction_ACCEPT}, nil)
		if ev := next(t, toAmy); ev.GetFriendUpdate().GetStatus() != pb.FriendStatus_ACCEPTED {
			t.Fatalf("accept = %v", ev)
		}
		ctx := auth.OutgoingContext(context.Background(), auth.Identity{UserID: bid})
		if _, err := e.client.UpdatePresence(ctx, &pb.UpdatePresenceRequest{UserId: bid, Online: true, RoomId: "lobby", InstanceId: "edge-1", ConnectionId: "c1"}); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, toAmy); !ev.GetFriendUpdate().GetOnline() || ev.GetFriendUpdate().GetRoomId() != "lobby" {
			t.Fatalf("presence = %v", ev)
		}
		var list pb.ListFriendsResponse
		e.must("GET", "/v1/friends", a.GetAccessToken(), nil, &list)
		if len(list.GetFriends()) != 1 || !list.GetFriends()[0].GetOnline() {
			t.Fatalf("list = %v", &list)
		}
	})

	t.Run("admin grant through real state", func(t *testing.T) {
		root, m := e.register("root"), e.register("mona")
		var u pb.User
		e.must("POST", "/v1/admin/users/"+m.GetUser().GetId()+"/roles", root.GetAccessToken(), &pb.GrantRoleRequest{Role: pb.Role_MODERATOR}, &u)
		if code, _ := e.call("POST", "/v1/admin/users/"+root.GetUser().GetId()+"/roles", m.GetAccessToken(), &pb.GrantRoleRequest{Role: pb.Role_ADMIN}, nil); code != http.StatusForbidden {
			t.Fatalf("moderator granting admin = %d", code)
		}
	})
}
