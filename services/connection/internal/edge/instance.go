package edge

import (
	"context"
	"fmt"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/connection/internal/fanout"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Identity is who the edge acts as toward the state service for its own
// business (heartbeat, re-registration).
var Identity = auth.System("edge")

// retryEvery is the heartbeat's pace while a beat or a re-registration
// fails, so the instance is back within a second or two of the state
// service (or Redis) answering again.
const retryEvery = time.Second

// serveInstance keeps this instance registered with the state service
// until ctx ends: a heartbeat every third of the TTL, and at once when
// Redis comes back. The edge is the authority on who is connected to it:
// when the state service did not know the instance (its heartbeat key was
// missing: Redis lost its data, or the instance expired), the edge
// re-registers every connection it holds with RestoreInstance, retrying on
// every beat until it succeeds, and tells the members of rooms that could
// not be restored.
func (s *Server) serveInstance(ctx context.Context) {
	ttl := s.cfg.HeartbeatTTL
	restore := false // a re-registration is owed
	failing := false
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.beatNow:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		known, err := s.beat(ctx, ttl)
		if err == nil && !known {
			restore = true
		}
		if err == nil && restore {
			if err = s.restore(ctx, ttl); err == nil {
				restore = false
			}
		}
		if ctx.Err() != nil {
			return
		}
		next := ttl / 3
		switch {
		case err != nil:
			if !failing {
				s.log.Warn("instance registration failing; retrying every second", "err", err)
			}
			failing = true
			next = min(next, retryEvery)
		case failing:
			failing = false
			s.log.Info("instance registration works again")
		}
		t.Reset(next)
	}
}

// beat refreshes the heartbeat; known says whether the state service knew
// the instance before.
func (s *Server) beat(ctx context.Context, ttl time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(auth.OutgoingContext(ctx, Identity), max(ttl/3, time.Second))
	defer cancel()
	res, err := s.deps.State.Heartbeat(ctx, &pb.HeartbeatRequest{InstanceId: s.cfg.InstanceID, Ttl: durationpb.New(ttl)})
	if err != nil {
		return false, fmt.Errorf("heartbeat: %w", err)
	}
	return res.GetKnown(), nil
}

// restore re-registers what this instance holds and tells the members of
// the rooms the state service lost for good. An instance that holds
// nothing has nothing to restore (its first beat, typically).
func (s *Server) restore(ctx context.Context, ttl time.Duration) error {
	seats, err := s.Seats(ctx)
	if err != nil {
		return err
	}
	if len(seats) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(auth.OutgoingContext(ctx, Identity), s.cfg.CallTimeout)
	defer cancel()
	res, err := s.deps.State.RestoreInstance(cctx, &pb.RestoreInstanceRequest{
		InstanceId: s.cfg.InstanceID, Ttl: durationpb.New(ttl), Seats: seats,
	})
	if err != nil {
		return fmt.Errorf("restore instance (%d seats): %w", len(seats), err)
	}
	s.log.Info("instance re-registered", "seats", len(seats), "lost_rooms", len(res.GetLostRoomIds()))
	for _, id := range res.GetLostRoomIds() {
		// A state event: its members drop the room and are told why.
		s.delivered(id, &fanout.Delivery{Event: roomLost{roomID: id}}, 0)
	}
	return nil
}

// Seats is what this instance holds, one InstanceSeat per open connection
// (its user, and its room when it is in one), as each connection's actor
// says. A connection that does not answer in time is closing and left out.
func (s *Server) Seats(ctx context.Context) ([]*pb.InstanceSeat, error) {
	conns, err := s.list(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out := make([]*pb.InstanceSeat, 0, len(conns))
	for _, c := range conns {
		if seat, err := askConn[*pb.InstanceSeat](ctx, s, c, seatQuery{}); err == nil {
			out = append(out, seat)
		}
	}
	return out, nil
}
