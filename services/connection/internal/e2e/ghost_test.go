package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/connection/internal/codec"
)

// TestGhostOfNeverSeenInstance: seats held by an instance this tracker
// never saw alive (no heartbeat at all) are found by discovery and, once
// confirmed by a second pass, cleared.
func TestGhostOfNeverSeenInstance(t *testing.T) {
	w := newWorld(t)
	// A long interval: the test drives the sweeps itself.
	e := w.edge(connsvc.Config{GhostInterval: time.Hour})
	host := e.dial(t, codec.JSON, "")
	host.join("haunted", true)

	state := pb.NewStateServiceClient(w.state)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ghost := &pb.User{Id: "ghost-user", DisplayName: "Casper"}
	if _, err := state.SaveUser(ctx, &pb.SaveUserRequest{User: ghost}); err != nil {
		t.Fatal(err)
	}
	if _, err := state.AddUserToRoom(ctx, &pb.AddUserToRoomRequest{RoomId: "haunted", Member: &pb.Member{
		User: ghost, JoinedAt: timestamppb.Now(), InstanceId: "edge-never-seen", ConnectionId: "c-ghost"}}); err != nil {
		t.Fatal(err)
	}
	members := func() int {
		res, err := state.RoomMembers(ctx, &pb.RoomMembersRequest{RoomId: "haunted"})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.GetMembers())
	}
	if n := members(); n != 2 {
		t.Fatalf("%d members before the sweeps", n)
	}
	steps := []struct {
		discover bool
		want     int
	}{
		{false, 2}, // a plain sweep knows nothing of the instance
		{true, 2},  // first discovery: a suspect (it may be starting)
		{true, 1},  // confirmed: its seat is cleared
	}
	for i, s := range steps {
		if err := e.svc.Sweep(ctx, s.discover); err != nil {
			t.Fatalf("sweep %d: %v", i, err)
		}
		if n := members(); n != s.want {
			t.Fatalf("after sweep %d: %d members, want %d", i, n, s.want)
		}
	}
	m := host.await("userLeft of the ghost", 5*time.Second, func(m *pb.ServerMessage) bool {
		return m.GetUserLeft().GetUserId() == "ghost-user"
	})
	if m.GetUserLeft().GetReason() != "ghost" {
		t.Fatalf("userLeft %v", m.GetUserLeft())
	}
}

// TestGhostOnlineInNoRoom: a user marked online through an instance that
// died (no heartbeat) while in no room is found through the state's index
// of presence-holding instances and set offline.
func TestGhostOnlineInNoRoom(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{GhostInterval: time.Hour})
	state := pb.NewStateServiceClient(w.state)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := state.SetOnline(ctx, &pb.SetOnlineRequest{UserId: "lurker", InstanceId: "edge-gone", ConnectionId: "c-lurk"}); err != nil {
		t.Fatal(err)
	}
	online := func() bool {
		res, err := state.GetPresence(ctx, &pb.GetPresenceRequest{UserIds: []string{"lurker"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetPresences()[0].GetOnline()
	}
	// Plain sweeps (no walk over the rooms) see the instance in the
	// presence index: a suspect first, then confirmed and cleaned.
	for i, want := range []bool{true, false} {
		if err := e.svc.Sweep(ctx, false); err != nil {
			t.Fatalf("sweep %d: %v", i, err)
		}
		if got := online(); got != want {
			t.Fatalf("after sweep %d: online = %v, want %v", i, got, want)
		}
	}
	res, err := state.ListInstances(ctx, &pb.ListInstancesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.GetPresenceInstanceIds() {
		if id == "edge-gone" {
			t.Fatalf("edge-gone still listed as holding presence: %v", res.GetPresenceInstanceIds())
		}
	}
}

// TestGuestPresenceFollowsTheConnection: a guest is online from the
// moment it connects, in its room once it joins, offline once it closes
// (what the ghost tracker and the online lists read).
func TestGuestPresenceFollowsTheConnection(t *testing.T) {
	w := newWorld(t)
	e := w.edge(connsvc.Config{})
	state := pb.NewStateServiceClient(w.state)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	g := e.dial(t, codec.JSON, "")
	presence := func() *pb.Presence {
		res, err := state.GetPresence(ctx, &pb.GetPresenceRequest{UserIds: []string{g.id()}})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetPresences()[0]
	}
	eventually := func(what string, ok func(*pb.Presence) bool) {
		t.Helper()
		for p := presence(); !ok(p); p = presence() {
			if ctx.Err() != nil {
				t.Fatalf("%s: presence %v", what, p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eventually("online on connecting", func(p *pb.Presence) bool {
		return p.GetOnline() && p.GetInstanceId() == e.svc.InstanceID() && p.GetRoomId() == ""
	})
	g.join("guest-presence", true)
	eventually("in the room once joined", func(p *pb.Presence) bool { return p.GetOnline() && p.GetRoomId() == "guest-presence" })
	g.reply(g.send(&pb.ClientMessage{Payload: &pb.ClientMessage_Leave{Leave: &pb.Leave{}}}))
	eventually("in no room once left", func(p *pb.Presence) bool { return p.GetOnline() && p.GetRoomId() == "" })
	_ = g.ws.Close(websocket.StatusNormalClosure, "bye")
	eventually("offline once closed", func(p *pb.Presence) bool { return !p.GetOnline() })
}
