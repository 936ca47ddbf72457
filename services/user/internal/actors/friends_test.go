package actors

import (
	"fmt"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

func TestTransition(t *testing.T) {
	const (
		none     = pb.FriendStatus_FRIEND_STATUS_UNSPECIFIED
		accepted = pb.FriendStatus_ACCEPTED
		outgoing = pb.FriendStatus_OUTGOING
		incoming = pb.FriendStatus_INCOMING
	)
	tests := []struct {
		cur    pb.FriendStatus
		action pb.FriendAction
		next   pb.FriendStatus
		ok     bool
	}{
		{none, pb.FriendAction_SEND, outgoing, true},
		{incoming, pb.FriendAction_SEND, accepted, true},
		{outgoing, pb.FriendAction_SEND, outgoing, true},
		{accepted, pb.FriendAction_SEND, accepted, true},
		{incoming, pb.FriendAction_ACCEPT, accepted, true},
		{accepted, pb.FriendAction_ACCEPT, accepted, true},
		{outgoing, pb.FriendAction_ACCEPT, outgoing, false},
		{none, pb.FriendAction_ACCEPT, none, false},
		{incoming, pb.FriendAction_DECLINE, none, true},
		{outgoing, pb.FriendAction_DECLINE, outgoing, false},
		{accepted, pb.FriendAction_REMOVE, none, true},
		{outgoing, pb.FriendAction_REMOVE, none, true},
		{none, pb.FriendAction_REMOVE, none, true},
		{none, pb.FriendAction_FRIEND_ACTION_UNSPECIFIED, none, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%v", tt.cur, tt.action), func(t *testing.T) {
			next, ok := transition(tt.cur, tt.action)
			if next != tt.next || ok != tt.ok {
				t.Fatalf("= %v %v, want %v %v", next, ok, tt.next, tt.ok)
			}
		})
	}
}
