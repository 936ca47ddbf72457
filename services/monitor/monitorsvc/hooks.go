package monitorsvc

import (
	"log/slog"
	"sync/atomic"

	"github.com/pianorhythm/server/pkg/actor"
	"github.com/pianorhythm/server/services/monitor/internal/logsink"
)

// Hooks hands out the monitor's panic and log hooks before the Service
// exists, for programs (the all-in-one) that build loggers, gRPC servers
// and actor systems first and the monitor last. Until Attach, panics are
// not reported and logs are not kept. The zero value is ready; it is safe
// for concurrent use.
type Hooks struct {
	svc atomic.Pointer[Service]
}

// Attach makes the hooks report to s from now on.
func (h *Hooks) Attach(s *Service) { h.svc.Store(s) }

// ReportPanic is Service.ReportPanic once attached; it fits
// rpc.ServerConfig.OnPanic.
func (h *Hooks) ReportPanic(service, where string, value any, stack []byte) {
	if s := h.svc.Load(); s != nil {
		s.ReportPanic(service, where, value, stack)
	}
}

// ReportFault is Service.ReportFault once attached; it fits
// rpc.ServerConfig.OnError.
func (h *Hooks) ReportFault(service, method string, err error) {
	if s := h.svc.Load(); s != nil {
		s.ReportFault(service, method, err)
	}
}

// PanicReporter returns a hook for actor.Config.OnPanic reporting the
// panics of service's actors once attached.
func (h *Hooks) PanicReporter(service string) func(kind string, value any, stack []byte) {
	return func(kind string, value any, stack []byte) { h.ReportPanic(service, kind, value, stack) }
}

// GiveUpReporter returns a hook for actor.Config.OnGiveUp reporting the
// give-ups of service's actors once attached.
func (h *Hooks) GiveUpReporter(service string) func(actor.GaveUp) {
	return func(g actor.GaveUp) {
		if s := h.svc.Load(); s != nil {
			s.ReportGiveUp(service, g)
		}
	}
}

// LogHandler is Service.LogHandler once attached; before, records only go
// to inner.
func (h *Hooks) LogHandler(inner slog.Handler) slog.Handler {
	return logsink.NewHandler(inner, func() *logsink.Sink {
		if s := h.svc.Load(); s != nil {
			return s.sink
		}
		return nil
	}, "")
}
