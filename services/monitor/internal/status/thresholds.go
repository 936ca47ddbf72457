package status

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Thresholds mark a component that is up as degraded when one of its
// figures passes them. A zero field means no limit.
type Thresholds struct {
	// Latency of the health check.
	Latency time.Duration
	// CPUPercent of one core, between the last two checks.
	CPUPercent float64
	// MemoryBytes resident.
	MemoryBytes int64
	Goroutines  int
	// Connections open to the service's gRPC server.
	Connections int
	// ErrorsPerMinute reported by the service, over the last 5 minutes.
	ErrorsPerMinute float64
}

// DefaultThresholds apply to every component unless configured otherwise.
// Memory has no default limit: services of the all-in-one program share
// one process, so its size says little about one of them.
var DefaultThresholds = Thresholds{
	Latency: 250 * time.Millisecond, CPUPercent: 85, Goroutines: 10000, ErrorsPerMinute: 10,
}

// over overlays the non-zero fields of t on base.
func (t Thresholds) over(base Thresholds) Thresholds {
	if t.Latency != 0 {
		base.Latency = t.Latency
	}
	if t.CPUPercent != 0 {
		base.CPUPercent = t.CPUPercent
	}
	if t.MemoryBytes != 0 {
		base.MemoryBytes = t.MemoryBytes
	}
	if t.Goroutines != 0 {
		base.Goroutines = t.Goroutines
	}
	if t.Connections != 0 {
		base.Connections = t.Connections
	}
	if t.ErrorsPerMinute != 0 {
		base.ErrorsPerMinute = t.ErrorsPerMinute
	}
	return base
}

// exceeded lists the thresholds cs passes, in words.
func (t Thresholds) exceeded(cs *pb.ComponentStatus) []string {
	var out []string
	if t.Latency > 0 && cs.GetLatencyMs() > float64(t.Latency.Microseconds())/1000 {
		out = append(out, fmt.Sprintf("latency %.1f ms > %v", cs.GetLatencyMs(), t.Latency))
	}
	if t.ErrorsPerMinute > 0 && cs.GetErrorsPerMinute() > t.ErrorsPerMinute {
		out = append(out, fmt.Sprintf("errors %.1f/min > %g/min", cs.GetErrorsPerMinute(), t.ErrorsPerMinute))
	}
	r := cs.GetResources()
	if r == nil {
		return out
	}
	if t.CPUPercent > 0 && r.GetCpuPercent() > t.CPUPercent {
		out = append(out, fmt.Sprintf("cpu %.0f%% > %g%%", r.GetCpuPercent(), t.CPUPercent))
	}
	if t.MemoryBytes > 0 && r.GetMemoryBytes() > t.MemoryBytes {
		out = append(out, fmt.Sprintf("memory %s > %s", Bytes(r.GetMemoryBytes()), Bytes(t.MemoryBytes)))
	}
	if t.Goroutines > 0 && int(r.GetGoroutines()) > t.Goroutines {
		out = append(out, fmt.Sprintf("goroutines %d > %d", r.GetGoroutines(), t.Goroutines))
	}
	if t.Connections > 0 && int(r.GetGrpcConnections()) > t.Connections {
		out = append(out, fmt.Sprintf("connections %d > %d", r.GetGrpcConnections(), t.Connections))
	}
	return out
}

// ParseThresholds reads thresholds per component:
//
//	default:latency=250ms,cpu=80,memory=2GiB,goroutines=10000,connections=500,errors=10;state:latency=100ms
//
// "default" applies to every component; a component's own entry
// overrides the fields it names. Sizes take B, KiB, MiB, GiB.
func ParseThresholds(s string) (map[string]Thresholds, error) {
	out := map[string]Thresholds{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, spec, ok := strings.Cut(part, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("thresholds %q: want component:key=value,...", part)
		}
		var t Thresholds
		for _, kv := range strings.Split(spec, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				return nil, fmt.Errorf("thresholds of %s: %q is not key=value", name, kv)
			}
			var err error
			switch strings.TrimSpace(k) {
			case "latency":
				t.Latency, err = time.ParseDuration(v)
			case "cpu":
				t.CPUPercent, err = strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
			case "memory":
				t.MemoryBytes, err = parseBytes(v)
			case "goroutines":
				t.Goroutines, err = strconv.Atoi(v)
			case "connections":
				t.Connections, err = strconv.Atoi(v)
			case "errors":
				t.ErrorsPerMinute, err = strconv.ParseFloat(strings.TrimSuffix(v, "/min"), 64)
			default:
				return nil, fmt.Errorf("thresholds of %s: unknown %q (latency, cpu, memory, goroutines, connections, errors)", name, k)
			}
			if err != nil {
				return nil, fmt.Errorf("thresholds of %s: %s=%q: %w", name, k, v, err)
			}
		}
		out[name] = t
	}
	return out, nil
}

func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, err
	}
	return int64(n * float64(mult)), nil
}

// Bytes writes n in the largest binary unit it fills ("1.5 GiB").
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
