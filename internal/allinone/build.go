package allinone

import (
	"context"
	"fmt"
	"net/http"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

// Placeholders for services whose issue has not landed: their generated
// Unimplemented servers, so health and reflection already show them.
type (
	stateStub struct {
		pb.UnimplementedStateServiceServer
	}
	userStub struct {
		pb.UnimplementedUserServiceServer
	}
	roomStub struct {
		pb.UnimplementedRoomServiceServer
	}
	connectionStub struct {
		pb.UnimplementedConnectionServiceServer
	}
)

// build constructs every service on its server and returns the edge's HTTP
// handler.
func (s *System) build(ctx context.Context) (http.Handler, error) {
	pb.RegisterStateServiceServer(s.byName["state"].srv.GRPC(), stateStub{})
	pb.RegisterUserServiceServer(s.byName["user"].srv.GRPC(), userStub{})
	pb.RegisterRoomServiceServer(s.byName["room"].srv.GRPC(), roomStub{})
	pb.RegisterConnectionServiceServer(s.byName["connection"].srv.GRPC(), connectionStub{})

	analytics, err := analyticssvc.New(analyticssvc.Config{}, analyticssvc.Deps{Logger: s.log.With("component", "analytics")})
	if err != nil {
		return nil, fmt.Errorf("analytics service: %w", err)
	}
	analytics.Register(s.byName["analytics"].srv.GRPC())
	s.byName["analytics"].close = analytics.Close

	monitor, err := monitorsvc.New(monitorsvc.Config{}, monitorsvc.Deps{Logger: s.log.With("component", "monitor")})
	if err != nil {
		return nil, fmt.Errorf("monitor service: %w", err)
	}
	monitor.Register(s.byName["monitor"].srv.GRPC())
	s.byName["monitor"].close = monitor.Close

	return s.edgeHandler(ctx)
}
