package fleet_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/e2e/fleet"
)

// racingJoins: 200 guests on two edges, served by two room and two state
// replicas, join one 20-seat room at the same moment. The room never holds
// more than 20: exactly the 19 seats left beside the owner are taken and
// every other joiner is told ROOM_FULL.
func racingJoins(t *testing.T, f *fleet.Fleet) {
	const (
		room     = "fleet-e"
		joiners  = 200
		capacity = 20
	)
	owner, err := fleet.Dial(t.Context(), f.WebSocketURL("edge-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	rj, err := owner.Join(t.Context(), room, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := rj.GetRoom().GetSettings().GetMaxPlayers(); got != capacity {
		t.Fatalf("new room has %d seats, want %d", got, capacity)
	}

	clients := make([]*fleet.Client, joiners)
	var dialing sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, joiners)
	for i := range clients {
		dialing.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := fleet.Dial(t.Context(), f.WebSocketURL(bothEdges[i%2]))
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		})
	}
	dialing.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	close(errs)
	for err := range errs {
		t.Fatalf("connect a joiner: %v", err)
	}

	// All at once.
	replies := make([]fleet.Reply, joiners)
	start := make(chan struct{})
	var joining sync.WaitGroup
	for i, c := range clients {
		joining.Go(func() {
			<-start
			replies[i] = c.Request(context.Background(),
				&pb.ClientMessage{Payload: &pb.ClientMessage_Join{Join: &pb.Join{Room: room}}}, 20*time.Second)
		})
	}
	began := time.Now()
	close(start)
	joining.Wait()
	took := time.Since(began)

	outcomes := map[string]int{}
	seated := map[string]bool{owner.ID(): true}
	largest := 0
	var slowestJoin time.Duration
	for i, r := range replies {
		slowestJoin = max(slowestJoin, r.Latency())
		switch {
		case r.Err != nil:
			outcomes["no reply"]++
			t.Errorf("joiner %d: %s", i, r)
		case r.Msg.GetRoomJoined() != nil:
			outcomes["joined"]++
			seated[clients[i].ID()] = true
			largest = max(largest, len(r.Msg.GetRoomJoined().GetMembers()))
		default:
			outcomes[r.Code()]++
			if r.Code() != "ROOM_FULL" {
				t.Errorf("joiner %d: %s, want roomJoined or ROOM_FULL", i, r)
			}
		}
	}
	if outcomes["joined"] != capacity-1 {
		t.Errorf("%d joiners got a seat, want the %d left", outcomes["joined"], capacity-1)
	}
	if largest > capacity {
		t.Errorf("a joiner was shown %d members, above the %d seats", largest, capacity)
	}
	for _, s := range f.Names("state") {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		res, err := pb.NewStateServiceClient(f.Conn(s)).RoomMembers(ctx, &pb.RoomMembersRequest{RoomId: room})
		cancel()
		if err != nil {
			t.Fatalf("members of %s from %s: %v", room, s, err)
		}
		if n := len(res.GetMembers()); n != capacity {
			t.Errorf("%s says %s has %d members, want %d", s, room, n, capacity)
		}
	}
	// What the owner saw arrive, once the last events are in.
	time.Sleep(time.Second)
	heard := map[string]bool{}
	var phantoms []string
	for _, fr := range owner.Frames() {
		if u := fr.Msg.GetUserJoined(); u != nil {
			id := u.GetMember().GetUser().GetId()
			if id == owner.ID() {
				continue
			}
			heard[id] = true
			if !seated[id] {
				phantoms = append(phantoms, fmt.Sprintf("%s (%s)", id, u.GetMember().GetUser().GetDisplayName()))
			}
		}
	}
	if len(heard) > capacity-1 {
		t.Errorf("the owner was told of %d joiners, above the %d seats left", len(heard), capacity-1)
	}
	if len(phantoms) > 0 {
		t.Errorf("the owner was told %d users joined who got no seat: %v", len(phantoms), phantoms)
	}
	t.Logf("figures: %d racing joins through 2 edges, 2 room and 2 state replicas into a %d-seat room: %v in %v (slowest %v); "+
		"largest member list shown %d; owner told of %d joiners",
		joiners, capacity, outcomes, took.Round(time.Millisecond), slowestJoin.Round(time.Millisecond), largest, len(heard))
}
