package rpc

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/telemetry"
)

// diagnostics is the DiagnosticsService every Server registers: what the
// service reports about itself (process figures from the Go runtime and
// /proc, its open gRPC connections, its gauges) and its log level, which
// SetLogLevel changes at once. Internal services and staff only.
type diagnostics struct {
	pb.UnimplementedDiagnosticsServiceServer
	name    string
	level   *slog.LevelVar
	gauges  func() map[string]float64
	conns   *connCounter
	started time.Time
}

var _ pb.DiagnosticsServiceServer = (*diagnostics)(nil)

func (d *diagnostics) GetDiagnostics(ctx context.Context, _ *pb.GetDiagnosticsRequest) (*pb.Diagnostics, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	p := ReadProcess()
	out := &pb.Diagnostics{
		Service: d.name, At: timestamppb.Now(), CpuSeconds: p.CPUSeconds, MemoryBytes: p.MemoryBytes,
		HeapBytes: p.HeapBytes, Goroutines: int32(p.Goroutines), GrpcConnections: int32(d.conns.open.Load()),
		OpenSockets: int32(p.Sockets), OpenFds: int32(p.FDs), Pid: int32(os.Getpid()),
		StartedAt: timestamppb.New(d.started),
	}
	if d.level != nil {
		out.LogLevel = telemetry.LevelName(d.level.Level())
	}
	if d.gauges != nil {
		out.Gauges = d.gauges()
	}
	return out, nil
}

// SetLogLevel sets the service's log level (an empty level only reads it);
// records are filtered by it from the next call on.
func (d *diagnostics) SetLogLevel(ctx context.Context, req *pb.DiagnosticsLogLevel) (*pb.DiagnosticsLogLevel, error) {
	if _, err := auth.RequireStaff(ctx); err != nil {
		return nil, err
	}
	if d.level == nil {
		return nil, Refuse(pb.ErrorReason_FAILED_PRECONDITION, "this service's log level is fixed")
	}
	if req.GetLevel() != "" {
		l, err := telemetry.ParseLevel(req.GetLevel())
		if err != nil {
			return nil, Refuse(pb.ErrorReason_INVALID_ARGUMENT, "level must be debug, info, warn or error")
		}
		d.level.Set(l)
	}
	return &pb.DiagnosticsLogLevel{Level: telemetry.LevelName(d.level.Level())}, nil
}

// connCounter counts the server's open client connections.
type connCounter struct{ open atomic.Int64 }

func (c *connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (c *connCounter) HandleRPC(context.Context, stats.RPCStats)                         {}
func (c *connCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (c *connCounter) HandleConn(_ context.Context, s stats.ConnStats) {
	switch s.(type) {
	case *stats.ConnBegin:
		c.open.Add(1)
	case *stats.ConnEnd:
		c.open.Add(-1)
	}
}

// Process is what the process reports about itself.
type Process struct {
	// CPUSeconds is user and system CPU time since start (getrusage).
	CPUSeconds float64
	// MemoryBytes is the resident set (/proc/self/statm); HeapBytes the Go
	// heap in use (runtime/metrics, no stop-the-world).
	MemoryBytes, HeapBytes int64
	Goroutines             int
	// FDs and Sockets are the open file descriptors, and those that are
	// sockets (/proc/self/fd); zero where /proc is missing.
	FDs, Sockets int
}

// ReadProcess reads the process figures now.
func ReadProcess() Process {
	p := Process{Goroutines: runtime.NumGoroutine()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		p.CPUSeconds = tv(ru.Utime) + tv(ru.Stime)
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			p.MemoryBytes = pages * int64(os.Getpagesize())
		}
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		p.HeapBytes = int64(sample[0].Value.Uint64())
	}
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.FDs = len(entries)
		for _, e := range entries {
			if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
				p.Sockets++
			}
		}
	}
	return p
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
