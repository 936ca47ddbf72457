package status

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/actor"
)

// Config configures a Monitor.
type Config struct {
	// Components are checked in this order and listed in this order.
	Components []Component
	// Timeout bounds one check of one component; zero means 2s.
	Timeout time.Duration
	// History is how many checks are kept per component; zero means 360.
	History int
	// Now tells the time of checks; nil means time.Now.
	Now func() time.Time
	// Thresholds per component name; the entry "default" applies to every
	// component (over DefaultThresholds), a component's own entry overrides
	// the fields it sets. Nil means DefaultThresholds for all.
	Thresholds map[string]Thresholds
	// Sparkline is how many recent latencies each component reports (the
	// page draws them); zero means 60.
	Sparkline int
	// ErrorRates, when set, returns the error reports per minute of each
	// service (by component name) for the report and its thresholds.
	ErrorRates func(ctx context.Context) map[string]float64
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.History == 0 {
		c.History = 360
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sparkline == 0 {
		c.Sparkline = 60
	}
	return c
}

// thresholds are those of the component called name.
func (c Config) thresholds(name string) Thresholds {
	t := c.Thresholds["default"].over(DefaultThresholds)
	if own, ok := c.Thresholds[name]; ok {
		t = own.over(t)
	}
	return t
}

// Validate reports a configuration Spawn cannot use.
func (c Config) Validate() error {
	seen := map[string]bool{}
	for _, comp := range c.Components {
		if comp.Name == "" || comp.Check == nil {
			return errors.New("status: a component needs a name and a check")
		}
		if seen[comp.Name] {
			return fmt.Errorf("status: component %q listed twice", comp.Name)
		}
		seen[comp.Name] = true
	}
	if c.Timeout < 0 || c.History < 0 || c.Sparkline < 0 {
		return errors.New("status: negative timeout, history or sparkline")
	}
	return nil
}

// Monitor is the StatusPageMonitor. Its methods are safe for concurrent use.
type Monitor struct {
	cfg Config
	ref *actor.Ref
}

// Spawn starts the monitor's actor in sys. No check runs until Check or Run
// is called.
func Spawn(sys *actor.System, cfg Config) (*Monitor, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The history outlives actor restarts: it is the actor's state, but a
	// restart caused by a bug should not erase the status page.
	h := newHistory(cfg.Components, cfg.History, cfg.Sparkline)
	ref, err := sys.Spawn(actor.Props{
		Kind: "status-monitor", Name: "status-monitor",
		New: func() actor.Actor { return &monitorActor{h: h} },
	})
	if err != nil {
		return nil, fmt.Errorf("spawn status monitor: %w", err)
	}
	return &Monitor{cfg: cfg, ref: ref}, nil
}

// Run checks every component every interval until ctx is done, starting at
// once. The caller owns the goroutine it runs in.
func (m *Monitor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		// A failed record means the actor is stopping; the next tick or
		// ctx.Done ends the loop.
		_ = m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check probes every component concurrently and records the results; it
// returns once they are recorded, so a Report that follows sees them.
func (m *Monitor) Check(ctx context.Context) error {
	at := m.cfg.Now()
	results := make([]result, len(m.cfg.Components))
	var wg sync.WaitGroup
	for i, comp := range m.cfg.Components {
		wg.Go(func() { results[i] = m.probe(ctx, comp) })
	}
	wg.Wait()
	if _, err := m.ref.Ask(ctx, record{at: at, results: results}); err != nil {
		return fmt.Errorf("record checks: %w", err)
	}
	return nil
}

func (m *Monitor) probe(ctx context.Context, comp Component) result {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	// Latency is wall time even under a fake clock: it measures the probe.
	start := time.Now()
	err := comp.Check(ctx)
	r := result{name: comp.Name, up: err == nil, latency: time.Since(start)}
	if err != nil {
		r.err = err.Error()
		return r
	}
	if comp.Diagnose != nil {
		// A service that does not report (an older build) is still up.
		r.diag, _ = comp.Diagnose(ctx)
	}
	return r
}

// Report returns the current status of every component: up, degraded (a
// figure past its threshold) or down.
func (m *Monitor) Report(ctx context.Context) (*pb.StatusReport, error) {
	rep, err := actor.Ask[*pb.StatusReport](ctx, m.ref, reportQuery{at: m.cfg.Now()})
	if err != nil {
		return nil, fmt.Errorf("status report: %w", err)
	}
	var rates map[string]float64
	if m.cfg.ErrorRates != nil {
		rates = m.cfg.ErrorRates(ctx)
	}
	rep.Healthy, rep.Degraded = true, false
	for _, cs := range rep.GetComponents() {
		cs.ErrorsPerMinute = rates[cs.GetName()]
		switch {
		case !cs.GetUp():
			cs.State = "down"
			rep.Healthy = false
		default:
			cs.DegradedReasons = m.cfg.thresholds(cs.GetName()).exceeded(cs)
			cs.State = "up"
			if len(cs.DegradedReasons) > 0 {
				cs.State = "degraded"
				rep.Degraded = true
			}
		}
	}
	return rep, nil
}

// Messages of the monitor actor.
type (
	record struct {
		at      time.Time
		results []result
	}
	reportQuery struct{ at time.Time }
)

type monitorActor struct{ h *history }

func (a *monitorActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case record:
		a.h.add(m.at, m.results)
		c.Respond(struct{}{})
	case reportQuery:
		c.Respond(a.h.report(m.at))
	}
}

// result is one check of one component.
type result struct {
	name    string
	up      bool
	latency time.Duration
	err     string
	diag    *pb.Diagnostics // nil when not reported
}

type sample struct {
	at time.Time
	result
}

// ring keeps the last cap samples of one component.
type ring struct {
	buf  []sample
	next int
	full bool
}

func (r *ring) add(s sample) {
	r.buf[r.next] = s
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

func (r *ring) len() int {
	if r.full {
		return len(r.buf)
	}
	return r.next
}

func (r *ring) last() (sample, bool) {
	if r.len() == 0 {
		return sample{}, false
	}
	return r.buf[(r.next-1+len(r.buf))%len(r.buf)], true
}

// at is the i-th sample counting back from the newest (0 is the newest).
func (r *ring) at(i int) sample {
	return r.buf[(r.next-1-i+2*len(r.buf))%len(r.buf)]
}

// latencies are the last n latencies in ms, oldest first.
func (r *ring) latencies(n int) []float64 {
	n = min(n, r.len())
	out := make([]float64, n)
	for i := range n {
		out[n-1-i] = float64(r.at(i).latency.Microseconds()) / 1000
	}
	return out
}

// resources are the newest sample's figures, with the CPU share since the
// previous sample of the same process that reported.
func (r *ring) resources() *pb.ResourceUsage {
	last := r.at(0).diag
	if last == nil {
		return nil
	}
	u := &pb.ResourceUsage{
		MemoryBytes: last.GetMemoryBytes(), HeapBytes: last.GetHeapBytes(), Goroutines: last.GetGoroutines(),
		GrpcConnections: last.GetGrpcConnections(), OpenSockets: last.GetOpenSockets(), OpenFds: last.GetOpenFds(),
		Gauges: last.GetGauges(), LogLevel: last.GetLogLevel(), Pid: last.GetPid(),
	}
	for i := 1; i < r.len(); i++ {
		prev := r.at(i).diag
		if prev == nil {
			continue
		}
		wall := last.GetAt().AsTime().Sub(prev.GetAt().AsTime()).Seconds()
		if prev.GetPid() == last.GetPid() && wall > 0 && last.GetCpuSeconds() >= prev.GetCpuSeconds() {
			u.CpuPercent = math.Round(1000*(last.GetCpuSeconds()-prev.GetCpuSeconds())/wall) / 10
		}
		break
	}
	return u
}

// history is the monitor actor's state: one ring per component, in the
// configured order.
type history struct {
	names     []string
	rings     map[string]*ring
	sparkline int
}

func newHistory(comps []Component, size, sparkline int) *history {
	h := &history{rings: make(map[string]*ring, len(comps)), sparkline: sparkline}
	for _, c := range comps {
		h.names = append(h.names, c.Name)
		h.rings[c.Name] = &ring{buf: make([]sample, size)}
	}
	return h
}

func (h *history) add(at time.Time, results []result) {
	for _, r := range results {
		if rg := h.rings[r.name]; rg != nil {
			rg.add(sample{at: at, result: r})
		}
	}
}

func (h *history) report(at time.Time) *pb.StatusReport {
	rep := &pb.StatusReport{Healthy: true, GeneratedAt: timestamppb.New(at)}
	for _, name := range h.names {
		rg := h.rings[name]
		cs := &pb.ComponentStatus{Name: name}
		last, ok := rg.last()
		if !ok {
			cs.Error = "not checked yet"
		} else {
			ups := 0
			for i := range rg.len() {
				if rg.buf[i].up {
					ups++
				}
			}
			cs.Up = last.up
			cs.LatencyMs = float64(last.latency.Microseconds()) / 1000
			cs.Uptime = float64(ups) / float64(rg.len())
			cs.CheckedAt = timestamppb.New(last.at)
			cs.Error = last.err
			cs.LatencyHistoryMs = rg.latencies(h.sparkline)
			if last.up {
				cs.Resources = rg.resources()
			}
		}
		rep.Healthy = rep.Healthy && cs.Up
		rep.Components = append(rep.Components, cs)
	}
	return rep
}
