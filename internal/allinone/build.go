package allinone

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/track"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
	"github.com/pianorhythm/server/services/room/roomsvc"
	"github.com/pianorhythm/server/services/state/statesvc"
	"github.com/pianorhythm/server/services/user/usersvc"
	"google.golang.org/grpc"
)

// build constructs every service on its server, in dependency order, and
// returns the edge's HTTP handler.
func (s *System) build() (http.Handler, error) {
	cfg := s.cfg
	state := pb.NewStateServiceClient(s.Conn("state"))
	user := pb.NewUserServiceClient(s.Conn("user"))
	room := pb.NewRoomServiceClient(s.Conn("room"))

	stateSvc, err := statesvc.New(statesvc.Config{KeyPrefix: cfg.KeyPrefix}, statesvc.Deps{
		Redis: s.redis.Client, Mongo: s.mongo.DB, Logger: s.logger("state"),
		Meter: s.meter("state"), OnPanic: s.hooks.PanicReporter("state"),
	})
	if err != nil {
		return nil, fmt.Errorf("state service: %w", err)
	}
	s.attach("state", stateSvc.Register, stateSvc.Close)

	userCfg := usersvc.Config{SigningKeySeed: cfg.SigningKeySeed, Admins: cfg.Admins, Discord: cfg.Discord}
	if len(userCfg.SigningKeySeed) == 0 {
		userCfg.KeyFile = filepath.Join(cfg.DataDir, "signing-key")
	}
	userSvc, err := usersvc.New(userCfg, usersvc.Deps{
		State: state, Mongo: s.mongo.DB, Logger: s.logger("user"),
		Meter: s.meter("user"), OnPanic: s.hooks.PanicReporter("user"),
	})
	if err != nil {
		return nil, fmt.Errorf("user service: %w", err)
	}
	s.attach("user", userSvc.Register, userSvc.Close)

	// Analytics events travel on one stream under the key prefix, so that
	// systems sharing a Redis (tests, staging) never read each other's.
	stream := cfg.KeyPrefix + "analytics:events"
	s.events = track.NewEmitter(s.redis.Client, track.Config{Stream: stream, Logger: s.logger("track")})

	analyticsSvc, err := analyticssvc.New(analyticssvc.Config{KeyPrefix: cfg.KeyPrefix, Stream: stream}, analyticssvc.Deps{
		Redis: s.redis.Client, Mongo: s.mongo.DB, Logger: s.logger("analytics"), Meter: s.meter("analytics"),
	})
	if err != nil {
		return nil, fmt.Errorf("analytics service: %w", err)
	}
	s.attach("analytics", analyticsSvc.Register, analyticsSvc.Close)

	roomSvc, err := roomsvc.New(roomsvc.Config{}, roomsvc.Deps{
		State: state, Verifier: s.verifier, Events: s.events, Logger: s.logger("room"),
		Meter: s.meter("room"), OnPanic: s.hooks.PanicReporter("room"),
	})
	if err != nil {
		return nil, fmt.Errorf("room service: %w", err)
	}
	s.attach("room", roomSvc.Register, roomSvc.Close)

	connSvc, err := connsvc.New(connsvc.Config{InstanceID: cfg.InstanceID, KeyPrefix: cfg.KeyPrefix}, connsvc.Deps{
		Redis: s.redis.Client, Room: room, User: user, State: state, Verifier: s.verifier,
		Gateway: connsvc.Gateway{
			User: s.Conn("user"), Room: s.Conn("room"), State: s.Conn("state"),
			Analytics: s.Conn("analytics"), Monitor: s.Conn("monitor"), Connection: s.Conn("connection"),
		},
		Metrics: cfg.Metrics,
		Logger:  s.logger("connection"),
		Meter:   s.meter("connection"),
	})
	if err != nil {
		return nil, fmt.Errorf("connection service: %w", err)
	}
	s.attach("connection", connSvc.Register, connSvc.Close)

	// The monitor comes last: its first health round runs at once, and
	// every other service must be answering by then.
	var targets []monitorsvc.Target
	for _, name := range serviceNames {
		if name != "monitor" {
			targets = append(targets, monitorsvc.Target{Name: name, Conn: s.Conn(name)})
		}
	}
	monitorSvc, err := monitorsvc.New(monitorsvc.Config{}, monitorsvc.Deps{
		Logger: s.logger("monitor"), Meter: s.meter("monitor"),
		Targets: targets, Redis: s.redis.Client, Mongo: s.mongo.DB,
	})
	if err != nil {
		return nil, fmt.Errorf("monitor service: %w", err)
	}
	s.attach("monitor", monitorSvc.Register, monitorSvc.Close)
	s.hooks.Attach(monitorSvc)

	mux := http.NewServeMux()
	mux.Handle("/status", monitorSvc.StatusHandler())
	mux.Handle("/", connSvc.Handler())
	return mux, nil
}

// attach registers a constructed service on its gRPC server, records how to
// close it and starts serving, so that the services built after it (which
// may call it while starting) find it answering.
func (s *System) attach(name string, register func(*grpc.Server), closeFn func(context.Context) error) {
	svc := s.byName[name]
	register(svc.srv.GRPC())
	svc.close = closeFn
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := svc.srv.Serve(s.runCtx); err != nil {
			s.log.Error("grpc server stopped", "component", name, "err", err)
		}
	}()
	svc.srv.SetServing("", true)
}
