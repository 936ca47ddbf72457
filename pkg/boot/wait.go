package boot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Waiting for dependencies at start: a program started before the services
// and stores it needs (the order of a `docker compose up`, a node restart,
// a rollout) waits for them instead of exiting, and serves once they
// answer. Only the end of its context (SIGTERM) stops the wait.
const (
	// waitFirstDelay and waitMaxDelay bound the pause between attempts.
	waitFirstDelay = 100 * time.Millisecond
	waitMaxDelay   = time.Second
	// waitLogEvery is how often a wait that goes on is logged again.
	waitLogEvery = 5 * time.Second
	// attemptTimeout bounds one health check of a peer.
	attemptTimeout = 2 * time.Second
)

// WaitServing blocks until service (a full gRPC service name such as
// "pianorhythm.v1.StateService") answers the gRPC health check on conn
// with SERVING. It logs what it waits for when the first attempt fails and
// every few seconds after, and returns an error only when ctx ends. Use it
// before building a service that needs the peer to start (the room service
// creates the lobby through the state service).
func (p *Program) WaitServing(ctx context.Context, conn *grpc.ClientConn, service string) error {
	health := healthpb.NewHealthClient(conn)
	return p.retry(ctx, service+" at "+conn.Target(), func(ctx context.Context) error {
		// Wait for the transport without calling, so the wait is not a
		// stream of failures on the connection's breaker.
		if err := connected(ctx, conn, attemptTimeout); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		res, err := health.Check(cctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			return err
		}
		if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health %s", res.GetStatus())
		}
		return nil
	})
}

// connected waits up to d for conn to be READY, asking it to connect when
// idle.
func connected(ctx context.Context, conn *grpc.ClientConn, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Ready:
			return nil
		case connectivity.Idle:
			conn.Connect()
		case connectivity.Shutdown:
			return errors.New("connection closed")
		}
		if !conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("not connected (%s)", s)
		}
	}
}

// retry runs try until it succeeds or ctx ends, pausing between attempts
// from waitFirstDelay doubling up to waitMaxDelay. It logs the wait at the
// first failure and every waitLogEvery, and the end of a wait that was
// logged. When ctx ends it returns one error naming what it waited for,
// for how long, and the last failure.
func (p *Program) retry(ctx context.Context, what string, try func(context.Context) error) error {
	start := time.Now()
	delay := waitFirstDelay
	var logged time.Time
	var last error
	stopped := func() error {
		return fmt.Errorf("stopped while waiting %v for %s: %w", time.Since(start).Round(time.Millisecond), what, last)
	}
	for {
		err := try(ctx)
		if err != nil && ctx.Err() != nil && last != nil {
			// Cut short by the stop: the failure before says more.
			return stopped()
		}
		last = err
		if err == nil {
			if !logged.IsZero() {
				p.Log.Info(what+" is up", "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if ctx.Err() == nil && time.Since(logged) >= waitLogEvery {
			p.Log.Warn("waiting for "+what, "err", err, "waited", time.Since(start).Round(time.Millisecond))
			logged = time.Now()
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return stopped()
		case <-t.C:
		}
		delay = min(2*delay, waitMaxDelay)
	}
}
