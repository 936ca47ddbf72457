package live

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// mirror is the status the other side sees.
func mirror(s pb.FriendStatus) pb.FriendStatus {
	switch s {
	case pb.FriendStatus_OUTGOING:
		return pb.FriendStatus_INCOMING
	case pb.FriendStatus_INCOMING:
		return pb.FriendStatus_OUTGOING
	}
	return s
}

// SetFriendStatus sets the relation seen from userID and its mirror seen
// from otherID in one MULTI; UNSPECIFIED removes both sides.
func (s *Store) SetFriendStatus(ctx context.Context, userID, otherID string, st pb.FriendStatus) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if st == pb.FriendStatus_FRIEND_STATUS_UNSPECIFIED {
			p.HDel(ctx, s.k.Friends(userID), otherID)
			p.HDel(ctx, s.k.Friends(otherID), userID)
			return nil
		}
		p.HSet(ctx, s.k.Friends(userID), otherID, int32(st))
		p.HSet(ctx, s.k.Friends(otherID), userID, int32(mirror(st)))
		return nil
	})
	if err != nil {
		return fmt.Errorf("set friend status %q-%q: %w", userID, otherID, err)
	}
	return nil
}

// loadedField marks a hash whose content was loaded from the archive (or
// is complete since it was created here): without it, Redis has lost the
// hash and its content must be read back from MongoDB. Ids never start
// with "~", so it cannot collide with an entry.
const loadedField = "~"

// Friends lists userID's relations ordered by user id; loaded is false
// when Redis does not have them (the caller loads them from the archive).
func (s *Store) Friends(ctx context.Context, userID string) (out []*pb.FriendEntry, loaded bool, err error) {
	h, err := s.rdb.HGetAll(ctx, s.k.Friends(userID)).Result()
	if err != nil {
		return nil, false, fmt.Errorf("friends of %q: %w", userID, err)
	}
	out = make([]*pb.FriendEntry, 0, len(h))
	for id, v := range h {
		if id == loadedField {
			loaded = true
			continue
		}
		n, _ := strconv.Atoi(v)
		out = append(out, &pb.FriendEntry{UserId: id, Status: pb.FriendStatus(n)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetUserId() < out[j].GetUserId() })
	return out, loaded, nil
}

// LoadFriends merges archived relations into userID's hash (entries
// written meanwhile win) and marks it loaded.
func (s *Store) LoadFriends(ctx context.Context, userID string, entries []*pb.FriendEntry) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range entries {
			p.HSetNX(ctx, s.k.Friends(userID), e.GetUserId(), int32(e.GetStatus()))
		}
		p.HSet(ctx, s.k.Friends(userID), loadedField, "1")
		return nil
	})
	if err != nil {
		return fmt.Errorf("load friends of %q: %w", userID, err)
	}
	return nil
}

// Mirror is the status the other side of a friendship sees.
func Mirror(s pb.FriendStatus) pb.FriendStatus { return mirror(s) }
