package monitorsvc_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
)

// TestErrorGroupsKeepUserRoomAndTrace: a group shows the user, room and
// trace of its latest report that named them, and how many users it hit.
func TestErrorGroupsKeepUserRoomAndTrace(t *testing.T) {
	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{})
	report(t, e, &pb.ErrorReport{Service: "room", Message: "kick failed", UserId: "u1", RoomId: "r1", TraceId: "t1"})
	e.clock.Advance(time.Second)
	report(t, e, &pb.ErrorReport{Service: "room", Message: "kick failed", Attributes: map[string]string{"user_id": "u2", "room_id": "r2"}})
	e.clock.Advance(time.Second)
	report(t, e, &pb.ErrorReport{Service: "room", Message: "kick failed"}) // names nobody: the last ones stay
	gs := groups(t, e)
	if len(gs) != 1 {
		t.Fatalf("groups %v", gs)
	}
	g := gs[0]
	if g.GetLastUserId() != "u2" || g.GetLastRoomId() != "r2" || g.GetLastTraceId() != "t1" || g.GetUsersAffected() != 2 || g.GetCount() != 3 {
		t.Errorf("group %v", g)
	}
	// A signed-in client's own report is its user's.
	bob := as(t, auth.Identity{UserID: "bob", Roles: []pb.Role{pb.Role_MEMBER}})
	if _, err := e.client.ReportError(bob, &pb.ErrorReport{Service: "web", Message: "audio context failed"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range groups(t, e) {
		if g.GetService() == "web" && g.GetLastUserId() != "bob" {
			t.Errorf("client report: %v", g)
		}
	}
}

// TestErrorRatePerServiceOverTime counts reports per service per minute,
// over the last hour; the status page shows the recent rate and a
// threshold on it degrades the service.
func TestErrorRatePerServiceOverTime(t *testing.T) {
	ctx := ctxT(t)
	room := target(t)
	th, _ := monitorsvc.ParseThresholds("default:latency=1m,cpu=10000;room:errors=1")
	e := start(t, monitorsvc.Config{Thresholds: th}, monitorsvc.Deps{Targets: []monitorsvc.Target{{Name: "room", Conn: dial(t, room.Addr())}}})
	for range 3 {
		report(t, e, &pb.ErrorReport{Service: "room", Message: "a"})
	}
	report(t, e, &pb.ErrorReport{Service: "user", Message: "b"})
	e.clock.Advance(2 * time.Minute)
	for range 7 {
		report(t, e, &pb.ErrorReport{Service: "room", Message: "c"})
	}
	r, err := e.client.ErrorRates(ctx, &pb.ErrorRatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GetRates()) != 2 || r.GetRates()[0].GetService() != "room" || r.GetRates()[1].GetService() != "user" {
		t.Fatalf("rates %v", r.GetRates())
	}
	rm := r.GetRates()[0]
	pm := rm.GetPerMinute()
	if len(pm) != 60 || pm[59] != 7 || pm[58] != 0 || pm[57] != 3 || rm.GetTotal() != 10 || rm.GetRecentPerMinute() != 2 {
		t.Errorf("room rate: last minutes %v, total %d, recent %v", pm[55:], rm.GetTotal(), rm.GetRecentPerMinute())
	}
	if want := t0.Add(2 * time.Minute).Truncate(time.Minute).Add(-59 * time.Minute); !rm.GetStart().AsTime().Equal(want) {
		t.Errorf("start %v, want %v", rm.GetStart().AsTime(), want)
	}
	if err := e.svc.CheckNow(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := e.client.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c := byName(t, rep)["room"]
	if c.GetErrorsPerMinute() != 2 || c.GetState() != "degraded" || !strings.Contains(strings.Join(c.GetDegradedReasons(), ";"), "errors 2.0/min > 1/min") {
		t.Errorf("room on the status page: %v", c)
	}
	e.clock.Advance(time.Hour)
	r, _ = e.client.ErrorRates(ctx, &pb.ErrorRatesRequest{Service: "room"})
	if len(r.GetRates()) != 1 || r.GetRates()[0].GetRecentPerMinute() != 0 || r.GetRates()[0].GetTotal() != 10 {
		t.Errorf("an hour later: %v", r.GetRates())
	}
	_, err = e.client.ErrorRates(as(t, auth.Identity{UserID: "u", Roles: []pb.Role{pb.Role_MEMBER}}), &pb.ErrorRatesRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("member: %v", err)
	}
}

// TestSetLogLevelOfAService: staff change a service's log level through
// the monitor; the service logs at the new level from its next call on.
func TestSetLogLevelOfAService(t *testing.T) {
	ctx := ctxT(t)
	var buf logtest.Buffer
	level := new(slog.LevelVar)
	log := slog.New(telemetry.NewLevelHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), level))
	srv, err := rpc.NewServer(rpc.ServerConfig{ServiceKeys: serviceKeys, Name: "room", Logger: log, LogLevel: level})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetServing("", true)
	serve(t, srv)
	own := new(slog.LevelVar)
	e := start(t, monitorsvc.Config{}, monitorsvc.Deps{
		Targets:  []monitorsvc.Target{{Name: "room", Conn: dial(t, srv.Addr())}},
		LogLevel: own,
	})
	health := func() {
		t.Helper()
		if err := e.svc.CheckNow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	health()
	if strings.Contains(buf.String(), "grpc.health.v1.Health/Check") {
		t.Fatal("a debug line before the change")
	}
	lv, err := e.client.SetLogLevel(ctx, &pb.SetLogLevelRequest{Service: "room", Level: "debug"})
	if err != nil || lv.GetLevel() != "debug" || lv.GetService() != "room" {
		t.Fatalf("SetLogLevel: %v %v", lv, err)
	}
	health()
	if !strings.Contains(buf.String(), "grpc.health.v1.Health/Check") {
		t.Fatalf("no debug line after the change:\n%s", buf.String())
	}
	if _, err := e.client.SetLogLevel(ctx, &pb.SetLogLevelRequest{Service: "monitor", Level: "warn"}); err != nil || own.Level() != slog.LevelWarn {
		t.Fatalf("own level: %v %v", own.Level(), err)
	}
	list, err := e.client.ListLogLevels(ctx, &pb.ListLogLevelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range list.GetLevels() {
		got[l.GetService()] = l.GetLevel()
	}
	if got["room"] != "debug" || got["monitor"] != "warn" || len(got) != 2 {
		t.Errorf("levels %v", got)
	}

	member := as(t, auth.Identity{UserID: "u", Roles: []pb.Role{pb.Role_MEMBER}})
	for _, tc := range []struct {
		ctx  context.Context
		req  *pb.SetLogLevelRequest
		code codes.Code
	}{
		{member, &pb.SetLogLevelRequest{Service: "room", Level: "error"}, codes.PermissionDenied},
		{as(t, auth.Identity{}), &pb.SetLogLevelRequest{Service: "room", Level: "error"}, codes.Unauthenticated},
		{ctx, &pb.SetLogLevelRequest{Service: "room", Level: "loud"}, codes.InvalidArgument},
		{ctx, &pb.SetLogLevelRequest{Service: "nope", Level: "info"}, codes.NotFound},
	} {
		if _, err := e.client.SetLogLevel(tc.ctx, tc.req); status.Code(err) != tc.code {
			t.Errorf("%v: %v, want %v", tc.req, err, tc.code)
		}
	}
	if level.Level() != slog.LevelDebug {
		t.Errorf("refused calls changed the level to %v", level.Level())
	}
}
