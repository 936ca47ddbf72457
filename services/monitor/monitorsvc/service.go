package monitorsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/monitor/internal/errtrack"
	"github.com/pianorhythm/server/services/monitor/internal/logsink"
	"github.com/pianorhythm/server/services/monitor/internal/status"
	grpcstatus "google.golang.org/grpc/status"
)

// Service is the monitor service. Its methods are safe for concurrent use.
// It owns an actor system and, unless CheckInterval is negative, one
// goroutine running the checks; Close stops both and waits.
type Service struct {
	cfg     Config
	log     *slog.Logger
	sys     *actor.System
	monitor *status.Monitor
	tracker *errtrack.Tracker
	sink    *logsink.Sink
	targets []Target
	level   *slog.LevelVar

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts the monitor's actors and, unless cfg.CheckInterval is
// negative, its checks (the first round at once).
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("monitor config: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	comps, err := components(deps)
	if err != nil {
		return nil, err
	}

	s := &Service{cfg: cfg, log: deps.Logger, targets: deps.Targets, level: deps.LogLevel}
	// The monitor's own actors report their panics to its own tracker.
	s.sys = actor.NewSystem(actor.Config{Logger: deps.Logger, Meter: deps.Meter, OnPanic: s.PanicReporter("monitor"), OnGiveUp: s.GiveUpReporter("monitor")})
	fail := func(err error) (*Service, error) {
		return nil, errors.Join(err, s.sys.Shutdown(context.Background()))
	}

	var hook *errtrack.Webhook
	if cfg.WebhookURL != "" {
		hook = errtrack.NewWebhook(cfg.WebhookURL, deps.HTTPClient, cfg.WebhookTimeout, deps.Logger)
	}
	if s.tracker, err = errtrack.Spawn(s.sys, errtrack.Config{
		SpikeThreshold: cfg.SpikeThreshold, MaxGroups: cfg.MaxErrorGroups,
		Now: cfg.Clock.Now, Webhook: hook, Logger: deps.Logger,
	}); err != nil {
		return fail(err)
	}
	if s.sink, err = logsink.Spawn(s.sys, cfg.RecentLogs); err != nil {
		return fail(err)
	}
	if s.monitor, err = status.Spawn(s.sys, status.Config{
		Components: comps, Timeout: cfg.CheckTimeout, History: cfg.History, Now: cfg.Clock.Now,
		Thresholds: cfg.Thresholds, Sparkline: cfg.Sparkline, ErrorRates: s.errorRates,
	}); err != nil {
		return fail(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if cfg.CheckInterval > 0 {
		s.wg.Go(func() { s.monitor.Run(ctx, cfg.CheckInterval) })
	}
	return s, nil
}

func components(deps Deps) ([]status.Component, error) {
	var comps []status.Component
	for _, t := range deps.Targets {
		if t.Name == "" || t.Conn == nil {
			return nil, errors.New("monitor: a target needs a name and a connection")
		}
		comps = append(comps, status.Component{Name: t.Name, Check: status.GRPCHealth(t.Conn), Diagnose: status.GRPCDiagnostics(t.Conn)})
	}
	if deps.Redis != nil {
		comps = append(comps, status.Component{Name: "redis", Check: status.RedisPing(deps.Redis)})
	}
	if deps.Mongo != nil {
		comps = append(comps, status.Component{Name: "mongodb", Check: status.MongoPing(deps.Mongo)})
	}
	return comps, nil
}

// errorRates are the reports per minute of each service over the last 5
// minutes; none when the tracker does not answer.
func (s *Service) errorRates(ctx context.Context) map[string]float64 {
	rs, err := s.tracker.Rates(ctx, "")
	if err != nil {
		return nil
	}
	out := make(map[string]float64, len(rs))
	for _, r := range rs {
		out[r.GetService()] = r.GetRecentPerMinute()
	}
	return out
}

// Register registers MonitorService on gs.
func (s *Service) Register(gs *grpc.Server) {
	pb.RegisterMonitorServiceServer(gs, &server{svc: s})
}

// Close stops the checks and the actors and waits for them; queued
// reports and alerts not handled by then are dropped.
func (s *Service) Close(ctx context.Context) error {
	s.cancel()
	s.wg.Wait()
	if err := s.sys.Shutdown(ctx); err != nil {
		return fmt.Errorf("stop monitor: %w", err)
	}
	return nil
}

// CheckNow runs one round of checks and returns once its results are
// recorded.
func (s *Service) CheckNow(ctx context.Context) error { return s.monitor.Check(ctx) }

// Status returns the status of every component, as the Status RPC does.
func (s *Service) Status(ctx context.Context) (*pb.StatusReport, error) {
	return s.monitor.Report(ctx)
}

// StatusHandler serves /status: an HTML table for people, the
// StatusReport as JSON with Accept: application/json or ?format=json.
func (s *Service) StatusHandler() http.Handler { return status.Handler(s.monitor.Report) }

// LogHandler wraps inner so WARN and ERROR records are also kept by the
// LogSink (RecentLogs), never blocking the logger. Use it for every
// service's logger, for example around the handler of telemetry's logger:
// slog.New(svc.LogHandler(log.Handler())).
func (s *Service) LogHandler(inner slog.Handler) slog.Handler {
	return logsink.NewHandler(inner, func() *logsink.Sink { return s.sink }, "")
}

// Report groups an error report, as the ReportError RPC does. A missing
// At is now. It blocks only while the tracker's mailbox is full, until ctx
// ends; r must not be modified afterwards.
func (s *Service) Report(ctx context.Context, r *pb.ErrorReport) error {
	if r.GetAt() == nil {
		r.At = timestamppb.New(s.cfg.Clock.Now())
	}
	return s.tracker.Report(ctx, r)
}

// reportTimeout bounds how long a panic hook waits for room in the
// tracker's mailbox: hooks run in the goroutine that panicked.
const reportTimeout = 100 * time.Millisecond

// ReportPanic reports a recovered panic of service in where (a gRPC method
// or an actor kind). Its signature is rpc.ServerConfig.OnPanic's, so
// svc.ReportPanic can be passed there as is.
func (s *Service) ReportPanic(service, where string, value any, stack []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	err := s.Report(ctx, &pb.ErrorReport{
		Service: service, Message: fmt.Sprintf("panic in %s: %v", where, value), Stack: string(stack),
		Attributes: map[string]string{"panic": "true", "where": where},
	})
	if err != nil {
		// Only Debug: a WARN here could come back through LogHandler while
		// the tracker is the thing that is failing.
		s.log.Debug("panic report dropped", "service", service, "where", where, "error", err)
	}
}

// ReportFault reports an error a gRPC handler of service returned that is
// the server's own fault (Internal, Unknown, DataLoss). Its signature is
// rpc.ServerConfig.OnError's. The message names the method and the status
// message, whose ids the fingerprint normalizes away.
func (s *Service) ReportFault(service, method string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	st := grpcstatus.Convert(err)
	rerr := s.Report(ctx, &pb.ErrorReport{
		Service: service, Message: fmt.Sprintf("%s: %s", method, st.Message()),
		Attributes: map[string]string{"method": method, "code": st.Code().String()},
	})
	if rerr != nil {
		s.log.Debug("fault report dropped", "service", service, "method", method, "error", rerr)
	}
}

// Ready reports whether the service can work: its actor system has given
// up on nothing (the tracker, the log sink and the status monitor).
func (s *Service) Ready(ctx context.Context) error {
	return s.sys.Check(ctx)
}

// ReportGiveUp reports an actor that service's root supervisor gave up on
// (the service is NOT_SERVING from then on). Its signature fits
// actor.Config.OnGiveUp through GiveUpReporter.
func (s *Service) ReportGiveUp(service string, g actor.GaveUp) {
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	err := s.Report(ctx, &pb.ErrorReport{
		Service: service, Message: fmt.Sprintf("gave up on actor %s (%s): %v", g.Name, g.Kind, g.Err),
		Attributes: map[string]string{"gave_up": "true", "actor": g.Name, "kind": g.Kind},
	})
	if err != nil {
		s.log.Debug("give-up report dropped", "service", service, "actor", g.Name, "error", err)
	}
}

// GiveUpReporter returns a hook for actor.Config.OnGiveUp that reports the
// give-ups of service's actors.
func (s *Service) GiveUpReporter(service string) func(actor.GaveUp) {
	return func(g actor.GaveUp) { s.ReportGiveUp(service, g) }
}

// PanicReporter returns a hook for actor.Config.OnPanic that reports the
// panics of service's actors.
func (s *Service) PanicReporter(service string) func(kind string, value any, stack []byte) {
	return func(kind string, value any, stack []byte) { s.ReportPanic(service, kind, value, stack) }
}
