package monitorsvc

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	"github.com/pianorhythm/server/services/monitor/internal/status"
)

// Clock tells the time; tests pass a fake one.
type Clock interface{ Now() time.Time }

// Config configures the monitor service. The zero value is usable.
type Config struct {
	// CheckInterval is the time between two rounds of checks; zero means
	// 10s, negative means no automatic checks (only CheckNow).
	CheckInterval time.Duration
	// CheckTimeout bounds one check of one component; zero means 2s.
	CheckTimeout time.Duration
	// History is how many checks are kept per component for the uptime;
	// zero means 360 (an hour at the default interval).
	History int
	// WebhookURL receives a JSON POST when an error group spikes; empty
	// means spikes are only logged.
	WebhookURL string
	// WebhookTimeout bounds one webhook POST; zero means 5s.
	WebhookTimeout time.Duration
	// SpikeThreshold: an error group spikes when it is reported more than
	// this many times within a minute; zero means 10.
	SpikeThreshold int
	// MaxErrorGroups bounds the error groups kept (least recently seen
	// forgotten first); zero means 1000.
	MaxErrorGroups int
	// RecentLogs is how many WARN and ERROR entries are kept; zero means
	// 500.
	RecentLogs int
	// Clock dates checks, reports and spikes; nil means the wall clock.
	Clock Clock
	// Thresholds mark a component that is up as degraded (see
	// ParseThresholds for the flag's form); the entry "default" applies to
	// every component. Nil means DefaultThresholds: latency 250ms, CPU 85%,
	// 10000 goroutines, 10 errors a minute, no memory or connection limit.
	Thresholds map[string]Thresholds
	// Sparkline is how many recent latencies the status page draws per
	// component; zero means 60.
	Sparkline int
}

// Thresholds are the figures past which a component is degraded; a zero
// field means no limit.
type Thresholds = status.Thresholds

// DefaultThresholds apply where none are configured.
var DefaultThresholds = status.DefaultThresholds

// ParseThresholds reads thresholds per component, as the -thresholds flag
// takes them: "default:latency=250ms,cpu=80,memory=2GiB,goroutines=10000,
// connections=500,errors=10;state:latency=100ms".
func ParseThresholds(s string) (map[string]Thresholds, error) { return status.ParseThresholds(s) }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (c Config) withDefaults() Config {
	if c.CheckInterval == 0 {
		c.CheckInterval = 10 * time.Second
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = 2 * time.Second
	}
	if c.History == 0 {
		c.History = 360
	}
	if c.WebhookTimeout == 0 {
		c.WebhookTimeout = 5 * time.Second
	}
	if c.SpikeThreshold == 0 {
		c.SpikeThreshold = 10
	}
	if c.MaxErrorGroups == 0 {
		c.MaxErrorGroups = 1000
	}
	if c.RecentLogs == 0 {
		c.RecentLogs = 500
	}
	if c.Clock == nil {
		c.Clock = wallClock{}
	}
	return c
}

// Validate reports a configuration New cannot use.
func (c Config) Validate() error {
	if c.CheckTimeout < 0 || c.WebhookTimeout < 0 {
		return errors.New("monitor: negative timeout")
	}
	if c.History < 0 || c.SpikeThreshold < 0 || c.MaxErrorGroups < 0 || c.RecentLogs < 0 || c.Sparkline < 0 {
		return errors.New("monitor: negative history, threshold or size")
	}
	return nil
}

// Target is a gRPC server whose health the monitor checks.
type Target struct {
	// Name is the component's name on the status page ("state", "room").
	Name string
	// Conn reaches the server; its grpc.health.v1 service is asked for
	// the overall status ("" service), and its DiagnosticsService for its
	// figures and log level.
	Conn grpc.ClientConnInterface
}

// Deps are the collaborators of the monitor service; all are optional.
type Deps struct {
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Meter records the actor metrics; nil means none.
	Meter metric.Meter
	// Targets are the services checked, listed in this order on /status.
	Targets []Target
	// Redis, when set, is checked with PING as component "redis".
	Redis redis.UniversalClient
	// Mongo, when set, is checked with the ping command as "mongodb".
	Mongo *mongo.Database
	// HTTPClient posts webhook alerts; nil means http.DefaultClient.
	HTTPClient *http.Client
	// LogLevel is the monitor's own log level, which SetLogLevel changes
	// for service "monitor"; nil means it cannot be changed.
	LogLevel *slog.LevelVar
}
