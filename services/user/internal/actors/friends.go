package actors

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"

	"github.com/google/uuid"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ProcessFriendRequest is From acting on their relation with To.
type ProcessFriendRequest struct {
	From   *pb.User
	To     string
	Action pb.FriendAction
}

// Friend processes friend requests, lists friends and spreads presence
// (the FriendActor of the first version). It owns nothing (relations live
// in the state service), so it is ordinary concurrent code; two people
// acting on one friendship at once are still handled one after the other
// in this process by a lock striped by the pair.
type Friend struct {
	env   *Env
	pairs [64]sync.Mutex
}

// NewFriend returns the friend handler.
func NewFriend(env *Env) *Friend { return &Friend{env: env} }

// pairLock returns the lock of the pair of users a and b.
func (f *Friend) pairLock(a, b string) *sync.Mutex {
	if a > b {
		a, b = b, a
	}
	h := fnv.New32a()
	h.Write([]byte(a + "|" + b))
	return &f.pairs[h.Sum32()%uint32(len(f.pairs))]
}

// Update applies m and returns the relation as From now sees it.
func (f *Friend) Update(ctx context.Context, m ProcessFriendRequest) (*pb.Friend, error) {
	mu := f.pairLock(m.From.GetId(), m.To)
	mu.Lock()
	defer mu.Unlock()
	return f.update(ctx, m)
}

// List returns userID's accepted friends (online first) then pending
// requests, each with presence for accepted ones.
func (f *Friend) List(ctx context.Context, userID string) ([]*pb.Friend, error) {
	return f.list(ctx, userID)
}

// Presence records where a user is (from the edge) and tells their
// friends.
func (f *Friend) Presence(ctx context.Context, r *pb.UpdatePresenceRequest) (*pb.Presence, error) {
	return f.presence(ctx, r)
}

// transition is the relation after action, seen from the actor, given the
// current one; ok is false when the action does not apply.
func transition(cur pb.FriendStatus, action pb.FriendAction) (next pb.FriendStatus, ok bool) {
	const (
		none     = pb.FriendStatus_FRIEND_STATUS_UNSPECIFIED
		accepted = pb.FriendStatus_ACCEPTED
		outgoing = pb.FriendStatus_OUTGOING
		incoming = pb.FriendStatus_INCOMING
	)
	switch action {
	case pb.FriendAction_SEND:
		switch cur {
		case none:
			return outgoing, true
		case incoming: // they asked first: sending back accepts
			return accepted, true
		}
		return cur, true // already asked or friends: nothing to do
	case pb.FriendAction_ACCEPT:
		if cur == incoming || cur == accepted {
			return accepted, true
		}
	case pb.FriendAction_DECLINE:
		if cur == incoming {
			return none, true
		}
	case pb.FriendAction_REMOVE:
		return none, true // also cancels an outgoing request
	}
	return cur, false
}

// mirror is a status seen from the other side.
func mirror(s pb.FriendStatus) pb.FriendStatus {
	switch s {
	case pb.FriendStatus_OUTGOING:
		return pb.FriendStatus_INCOMING
	case pb.FriendStatus_INCOMING:
		return pb.FriendStatus_OUTGOING
	}
	return s
}

func (f *Friend) update(ctx context.Context, m ProcessFriendRequest) (*pb.Friend, error) {
	from := m.From
	if from.GetGuest() || IsGuestID(m.To) || from.GetId() == m.To {
		return nil, fmt.Errorf("%w: guests have no friends, nor can one befriend oneself", ErrFriendship)
	}
	target, err := f.env.LoadUser(ctx, m.To)
	if err != nil {
		return nil, fmt.Errorf("load friend: %w", err)
	}
	entries, err := f.relations(ctx, from.GetId())
	if err != nil {
		return nil, err
	}
	cur := entries[m.To]
	next, ok := transition(cur, m.Action)
	if !ok {
		return nil, fmt.Errorf("%w: %v with relation %v", ErrFriendship, m.Action, cur)
	}
	if next != cur {
		octx, cancel := f.env.op(ctx)
		_, err := f.env.State.SetFriendStatus(octx, &pb.SetFriendStatusRequest{UserId: from.GetId(), OtherId: m.To, Status: next})
		cancel()
		if err != nil {
			return nil, stateErr("set friend status", err, nil)
		}
	}
	// Presence is shared between accepted friends only.
	var presence map[string]*pb.Presence
	if next == pb.FriendStatus_ACCEPTED {
		if presence, err = f.presences(ctx, []string{from.GetId(), m.To}); err != nil {
			return nil, err
		}
	}
	if next != cur {
		theirs := friendEntry(from, mirror(next), presence)
		f.env.publish(ctx, &pb.UserEvent{UserId: m.To, EventId: uuid.NewString(), At: timestamppb.New(f.env.Now()),
			Event: &pb.UserEvent_FriendUpdate{FriendUpdate: theirs}})
	}
	return friendEntry(target, next, presence), nil
}

func (f *Friend) list(ctx context.Context, userID string) ([]*pb.Friend, error) {
	entries, err := f.relations(ctx, userID)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	ids := make([]string, 0, len(entries))
	var accepted []string
	for id, st := range entries {
		ids = append(ids, id)
		if st == pb.FriendStatus_ACCEPTED {
			accepted = append(accepted, id)
		}
	}
	octx, cancel := f.env.op(ctx)
	accounts, err := f.env.Store.ByIDs(octx, ids)
	cancel()
	if err != nil {
		return nil, err
	}
	presence, err := f.presences(ctx, accepted)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Friend, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, friendEntry(a.Proto(), entries[a.ID], presence))
	}
	slices.SortFunc(out, func(a, b *pb.Friend) int {
		rank := func(x *pb.Friend) int {
			switch {
			case x.GetStatus() == pb.FriendStatus_ACCEPTED && x.GetOnline():
				return 0
			case x.GetStatus() == pb.FriendStatus_ACCEPTED:
				return 1
			case x.GetStatus() == pb.FriendStatus_INCOMING:
				return 2
			}
			return 3
		}
		return cmp.Or(cmp.Compare(rank(a), rank(b)),
			cmp.Compare(a.GetUser().GetDisplayName(), b.GetUser().GetDisplayName()),
			cmp.Compare(a.GetUser().GetId(), b.GetUser().GetId()))
	})
	return out, nil
}

func (f *Friend) presence(ctx context.Context, r *pb.UpdatePresenceRequest) (*pb.Presence, error) {
	octx, cancel := f.env.op(ctx)
	defer cancel()
	var err error
	if r.GetOnline() {
		_, err = f.env.State.SetOnline(octx, &pb.SetOnlineRequest{UserId: r.GetUserId(), InstanceId: r.GetInstanceId(), ConnectionId: r.GetConnectionId(), RoomId: r.GetRoomId()})
	} else {
		_, err = f.env.State.SetOffline(octx, &pb.SetOfflineRequest{UserId: r.GetUserId(), ConnectionId: r.GetConnectionId()})
	}
	if err != nil {
		return nil, stateErr("set presence", err, nil)
	}
	p := &pb.Presence{UserId: r.GetUserId(), Online: r.GetOnline(), InstanceId: r.GetInstanceId(), ConnectionId: r.GetConnectionId(), Since: timestamppb.New(f.env.Now())}
	if r.GetOnline() {
		p.RoomId = r.GetRoomId()
	}
	if IsGuestID(r.GetUserId()) {
		return p, nil // guests have no friends to tell
	}
	entries, err := f.relations(ctx, r.GetUserId())
	if err != nil {
		return nil, err
	}
	var u *pb.User
	for id, st := range entries {
		if st != pb.FriendStatus_ACCEPTED {
			continue
		}
		if u == nil {
			if u, err = f.env.LoadUser(ctx, r.GetUserId()); err != nil {
				return nil, fmt.Errorf("load user: %w", err)
			}
		}
		entry := friendEntry(u, pb.FriendStatus_ACCEPTED, map[string]*pb.Presence{u.GetId(): p})
		f.env.publish(ctx, &pb.UserEvent{UserId: id, EventId: uuid.NewString(), At: timestamppb.New(f.env.Now()),
			Event: &pb.UserEvent_FriendUpdate{FriendUpdate: entry}})
	}
	return p, nil
}

// relations returns userID's relations by other user id.
func (f *Friend) relations(ctx context.Context, userID string) (map[string]pb.FriendStatus, error) {
	octx, cancel := f.env.op(ctx)
	defer cancel()
	resp, err := f.env.State.ListFriendIDs(octx, &pb.ListFriendIDsRequest{UserId: userID})
	if err != nil {
		return nil, stateErr("list friends", err, nil)
	}
	out := make(map[string]pb.FriendStatus, len(resp.GetFriends()))
	for _, e := range resp.GetFriends() {
		out[e.GetUserId()] = e.GetStatus()
	}
	return out, nil
}

func (f *Friend) presences(ctx context.Context, ids []string) (map[string]*pb.Presence, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	octx, cancel := f.env.op(ctx)
	defer cancel()
	resp, err := f.env.State.GetPresence(octx, &pb.GetPresenceRequest{UserIds: ids})
	if err != nil {
		return nil, stateErr("get presence", err, nil)
	}
	out := make(map[string]*pb.Presence, len(resp.GetPresences()))
	for _, p := range resp.GetPresences() {
		out[p.GetUserId()] = p
	}
	return out, nil
}

// friendEntry builds a friends-list entry for u; presence only counts for
// accepted friends.
func friendEntry(u *pb.User, st pb.FriendStatus, presence map[string]*pb.Presence) *pb.Friend {
	pub := proto.Clone(u).(*pb.User)
	pub.BannedUntil = nil
	fr := &pb.Friend{User: pub, Status: st}
	if p, ok := presence[u.GetId()]; ok && st == pb.FriendStatus_ACCEPTED {
		fr.Online, fr.RoomId = p.GetOnline(), p.GetRoomId()
	}
	return fr
}
