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

	stateCfg := cfg.State
	stateCfg.KeyPrefix = cfg.KeyPrefix
	stateSvc, err := statesvc.New(stateCfg, statesvc.Deps{
		Redis: s.redis.Client, Mongo: s.mongo.DB, Logger: s.logger("state"),
		Meter: s.meter("state"), OnPanic: s.hooks.PanicReporter("state"), OnGiveUp: s.hooks.GiveUpReporter("state"),
	})
	if err != nil {
		return nil, fmt.Errorf("state service: %w", err)
	}
	s.attach("state", stateSvc.Register, stateSvc.Close, stateSvc.Ready)

	// Analytics events travel on one stream under the key prefix, so that
	// systems sharing a Redis (tests, staging) never read each other's.
	stream := cfg.Analytics.Stream
	if stream == "" {
		stream = cfg.KeyPrefix + "analytics:events"
	}
	s.events = track.NewEmitter(s.redis.Client, track.Config{Stream: stream, Logger: s.logger("track")})

	userCfg := cfg.User
	if len(cfg.SigningKeySeed) > 0 {
		userCfg.SigningKeySeed = cfg.SigningKeySeed
	}
	if len(cfg.Admins) > 0 {
		userCfg.Admins = cfg.Admins
	}
	if cfg.Discord.ClientID != "" {
		userCfg.Discord = cfg.Discord
	}
	userCfg.Tokens = cfg.Tokens
	if len(userCfg.SigningKeySeed) == 0 && userCfg.KeyFile == "" {
		userCfg.KeyFile = filepath.Join(cfg.DataDir, "signing-key")
	}
	userSvc, err := usersvc.New(userCfg, usersvc.Deps{
		State: state, Mongo: s.mongo.DB, Logger: s.logger("user"),
		Meter: s.meter("user"), OnPanic: s.hooks.PanicReporter("user"), OnGiveUp: s.hooks.GiveUpReporter("user"), Events: s.events,
	})
	if err != nil {
		return nil, fmt.Errorf("user service: %w", err)
	}
	s.attach("user", userSvc.Register, userSvc.Close, userSvc.Ready)

	analyticsCfg := cfg.Analytics
	analyticsCfg.KeyPrefix, analyticsCfg.Stream = cfg.KeyPrefix, stream
	analyticsSvc, err := analyticssvc.New(analyticsCfg, analyticssvc.Deps{
		Redis: s.redis.Client, Mongo: s.mongo.DB, Logger: s.logger("analytics"), Meter: s.meter("analytics"),
		OnPanic: s.hooks.PanicReporter("analytics"), OnGiveUp: s.hooks.GiveUpReporter("analytics"),
	})
	if err != nil {
		return nil, fmt.Errorf("analytics service: %w", err)
	}
	s.attach("analytics", analyticsSvc.Register, analyticsSvc.Close, analyticsSvc.Ready)

	roomSvc, err := roomsvc.New(cfg.Room, roomsvc.Deps{
		State: state, Verifier: s.verifier, Events: s.events, Logger: s.logger("room"),
		Meter: s.meter("room"), OnPanic: s.hooks.PanicReporter("room"), OnGiveUp: s.hooks.GiveUpReporter("room"),
	})
	if err != nil {
		return nil, fmt.Errorf("room service: %w", err)
	}
	s.attach("room", roomSvc.Register, roomSvc.Close, roomSvc.Ready)
	s.room = roomSvc

	edgeCfg := cfg.Edge
	edgeCfg.InstanceID, edgeCfg.KeyPrefix = cfg.InstanceID, cfg.KeyPrefix
	connSvc, err := connsvc.New(edgeCfg, connsvc.Deps{
		Redis: s.redis.Client, Room: room, User: user, State: state, Verifier: s.verifier, Events: s.events,
		Gateway: connsvc.Gateway{
			User: s.Conn("user"), Room: s.Conn("room"), State: s.Conn("state"),
			Analytics: s.Conn("analytics"), Monitor: s.Conn("monitor"), Connection: s.Conn("connection"),
		},
		Metrics:        cfg.Metrics,
		Logger:         s.logger("connection"),
		Meter:          s.meter("connection"),
		TracerProvider: cfg.TracerProvider,
		OnPanic:        s.hooks.PanicReporter("connection"),
		OnGiveUp:       s.hooks.GiveUpReporter("connection"),
	})
	if err != nil {
		return nil, fmt.Errorf("connection service: %w", err)
	}
	s.attach("connection", connSvc.Register, connSvc.Close, connSvc.Ready)
	s.edge.Store(connSvc)

	// The monitor comes last: its first health round runs at once, and
	// every other service must be answering by then.
	var targets []monitorsvc.Target
	for _, name := range serviceNames {
		if name != "monitor" {
			targets = append(targets, monitorsvc.Target{Name: name, Conn: s.Conn(name)})
		}
	}
	monitorSvc, err := monitorsvc.New(cfg.Monitor, monitorsvc.Deps{
		Logger: s.logger("monitor"), Meter: s.meter("monitor"),
		Targets: targets, Redis: s.redis.Client, Mongo: s.mongo.DB, LogLevel: s.levels["monitor"],
	})
	if err != nil {
		return nil, fmt.Errorf("monitor service: %w", err)
	}
	s.attach("monitor", monitorSvc.Register, monitorSvc.Close, monitorSvc.Ready)
	s.hooks.Attach(monitorSvc)

	mux := http.NewServeMux()
	mux.Handle("/status", monitorSvc.StatusHandler())
	mux.Handle("/", connSvc.Handler())
	return mux, nil
}

// attach registers a constructed service on its gRPC server, records how to
// close it and starts serving, so that the services built after it (which
// may call it while starting) find it answering.
func (s *System) attach(name string, register func(*grpc.Server), closeFn func(context.Context) error, ready func(context.Context) error) {
	svc := s.byName[name]
	register(svc.srv.GRPC())
	svc.close = closeFn
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := svc.srv.Serve(s.runCtx); err != nil {
			s.log.Error("grpc server stopped", "component", name, "err", err)
		}
	}()
	svc.srv.SetServing("", true)
	// The service's health follows its own check (its key actors answer,
	// its actor system gave up on nothing).
	go func() {
		defer s.wg.Done()
		svc.srv.WatchReady(s.readyCtx, "", ready, s.logger(name))
	}()
}
