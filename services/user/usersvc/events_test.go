package usersvc_test

import (
	"context"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/store/storetest"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/user/usersvc"
	"google.golang.org/grpc/metadata"
)

// TestAnalyticsEventsAtTheirCallSites: logins (register, password),
// logouts, friend requests and friendships are emitted where they happen,
// with ids that make a repeated accept count once.
func TestAnalyticsEventsAtTheirCallSites(t *testing.T) {
	clk := newClock()
	state := startState(t, clk)
	rec := &track.Recorder{}
	svc, err := usersvc.New(usersvc.Config{Password: cheap}, usersvc.Deps{
		State: state, Mongo: storetest.Mongo(t), Clock: clk.Now, Events: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Close(ctx)
	})
	c := pb.NewUserServiceClient(serve(t, svc.Register, svc.Verifier()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	as := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	one := func(want pb.EventType, user string) *pb.Event {
		t.Helper()
		evs := rec.Take()
		if len(evs) != 1 || evs[0].GetType() != want || evs[0].GetUserId() != user || evs[0].GetId() == "" {
			t.Fatalf("events = %v, want one %v of %s", evs, want, user)
		}
		return evs[0]
	}

	ann, err := c.Register(ctx, &pb.RegisterRequest{Username: "ann", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	annID := ann.GetUser().GetId()
	if ev := one(pb.EventType_EVENT_TYPE_LOGIN, annID); ev.GetAttributes()["method"] != "register" {
		t.Errorf("method = %q", ev.GetAttributes()["method"])
	}
	bob, err := c.Register(ctx, &pb.RegisterRequest{Username: "bob", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	bobID := bob.GetUser().GetId()
	rec.Take()
	if _, err := c.Login(ctx, &pb.LoginRequest{Username: "ann", Password: "wrong horse"}); err == nil {
		t.Fatal("wrong password logged in")
	}
	if evs := rec.Take(); len(evs) != 0 {
		t.Fatalf("a failed login emitted %v", evs)
	}
	login, err := c.Login(ctx, &pb.LoginRequest{Username: "ann", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := one(pb.EventType_EVENT_TYPE_LOGIN, annID); ev.GetAttributes()["method"] != "password" {
		t.Errorf("method = %q", ev.GetAttributes()["method"])
	}

	if _, err := c.UpdateFriend(as(login.GetAccessToken()), &pb.UpdateFriendRequest{UserId: bobID, Action: pb.FriendAction_SEND}); err != nil {
		t.Fatal(err)
	}
	if ev := one(pb.EventType_EVENT_TYPE_FRIEND_REQUESTED, annID); ev.GetAttributes()["friend_id"] != bobID {
		t.Errorf("friend_id = %q", ev.GetAttributes()["friend_id"])
	}
	accept := func() []*pb.Event {
		t.Helper()
		if _, err := c.UpdateFriend(as(bob.GetAccessToken()), &pb.UpdateFriendRequest{UserId: annID, Action: pb.FriendAction_ACCEPT}); err != nil {
			t.Fatal(err)
		}
		return rec.Take()
	}
	added := accept()
	if len(added) != 2 || added[0].GetType() != pb.EventType_EVENT_TYPE_FRIEND_ADDED || added[1].GetType() != pb.EventType_EVENT_TYPE_FRIEND_ADDED {
		t.Fatalf("accept emitted %v, want FRIEND_ADDED for both", added)
	}
	users := map[string]string{added[0].GetUserId(): added[0].GetAttributes()["friend_id"], added[1].GetUserId(): added[1].GetAttributes()["friend_id"]}
	if users[annID] != bobID || users[bobID] != annID {
		t.Errorf("friendship events %v", users)
	}
	again := accept()
	if len(again) != 2 || again[0].GetId() != added[0].GetId() || again[1].GetId() != added[1].GetId() {
		t.Errorf("a repeated accept must reuse the ids (counted once): %v then %v", added, again)
	}

	if _, err := c.Logout(as(login.GetAccessToken()), &pb.LogoutRequest{RefreshToken: login.GetRefreshToken()}); err != nil {
		t.Fatal(err)
	}
	one(pb.EventType_EVENT_TYPE_LOGOUT, annID)
}
