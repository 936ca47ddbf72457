package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/state/internal/live"
)

// restoreLockTTL bounds how long one replica may hold the restore lock
// (a replica that dies mid-restore frees it by expiry).
const restoreLockTTL = 30 * time.Second

// EnsureRestored restores the archived rooms (with their bans) and the
// server-wide settings when Redis holds none of them (it restarted empty,
// was flushed, or is new), so every room that existed is there again
// before anyone asks. Another replica restoring at the same time makes
// this one wait for it.
func (e *Engine) EnsureRestored(ctx context.Context) error {
	for {
		ok, err := e.Live.Restored(ctx)
		if err != nil || ok {
			return err
		}
		owner := uuid.NewString()
		locked, err := e.Live.LockRestore(ctx, owner, restoreLockTTL)
		if err != nil {
			return err
		}
		if locked {
			n, err := e.restoreAll(ctx)
			if err != nil {
				return fmt.Errorf("restore from archive: %w", err)
			}
			if err := e.Live.MarkRestored(ctx, owner, e.now()); err != nil {
				return err
			}
			if e.Logger != nil && n > 0 {
				e.Logger.InfoContext(ctx, "restored rooms from the archive into an empty redis", "rooms", n)
			}
			return nil
		}
		select { // another replica is restoring
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (e *Engine) restoreAll(ctx context.Context) (int, error) {
	if err := e.flushed(ctx); err != nil {
		return 0, err
	}
	rooms, err := e.Archive.Rooms(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range rooms {
		if err := e.putBack(ctx, r); err != nil {
			return 0, err
		}
	}
	cfg, err := e.Archive.Config(ctx)
	if err != nil {
		return 0, err
	}
	return len(rooms), e.Live.RestoreConfig(ctx, cfg)
}

// Watch checks every interval whether Redis lost its data, and restores
// it from the archive when it did, until ctx ends. Failures (Redis down)
// are retried on the next tick.
func (e *Engine) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, restoreLockTTL)
		err := e.EnsureRestored(cctx)
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil && e.Logger != nil:
			e.Logger.Warn("check redis for lost state", "err", err)
			failing = true
		case err == nil:
			failing = false
		}
	}
}

// RestoreInstance puts back what one edge instance holds (see
// StateService.RestoreInstance) and returns the rooms that exist nowhere.
func (e *Engine) RestoreInstance(ctx context.Context, instanceID string, ttl time.Duration, seats []*pb.InstanceSeat) ([]string, error) {
	if err := e.EnsureRestored(ctx); err != nil {
		return nil, err
	}
	if _, err := e.Live.Heartbeat(ctx, instanceID, ttl, e.now()); err != nil {
		return nil, err
	}
	lost := map[string]bool{}
	var lostIDs []string
	for _, s := range seats {
		m := s.GetMember()
		uid := m.GetUser().GetId()
		if _, err := e.Live.SetOnline(ctx, uid, instanceID, m.GetConnectionId(), s.GetRoomId(), e.now()); err != nil {
			return nil, err
		}
		room := s.GetRoomId()
		if room == "" || lost[room] {
			continue
		}
		ok, err := e.Live.RestoreSeat(ctx, room, m)
		if err == nil && !ok {
			if _, err = e.restoreRoom(ctx, room); err == nil {
				ok, err = e.Live.RestoreSeat(ctx, room, m)
			}
		}
		switch {
		case errors.Is(err, live.ErrNotFound) || (err == nil && !ok):
			lost[room] = true
			lostIDs = append(lostIDs, room)
		case err != nil:
			return nil, err
		}
	}
	return lostIDs, nil
}
