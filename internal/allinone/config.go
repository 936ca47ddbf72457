package allinone

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
	"github.com/pianorhythm/server/services/room/roomsvc"
	"github.com/pianorhythm/server/services/state/statesvc"
	"github.com/pianorhythm/server/services/user/usersvc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Config configures the all-in-one system. Every zero value has a working
// default, so the zero Config runs everything on embedded stores.
type Config struct {
	// HTTPAddr is the edge's address (WebSocket, REST, web client);
	// zero means ":8080". Tests use "127.0.0.1:0".
	HTTPAddr string
	// Service addresses (loopback gRPC). Zero means 127.0.0.1:9101 to
	// 127.0.0.1:9106 in the order below; "127.0.0.1:0" picks a free port.
	StateAddr, UserAddr, RoomAddr, ConnectionAddr, AnalyticsAddr, MonitorAddr string
	// RedisURL is a redis:// URL; zero means an embedded in-process Redis.
	RedisURL string
	// MongoURI is a mongodb:// URI; zero means an embedded FerretDB under
	// DataDir.
	MongoURI string
	// Database is the MongoDB database; zero means "pianorhythm".
	Database string
	// DataDir holds the embedded MongoDB's files and the token signing key;
	// zero means "./data".
	DataDir string
	// KeyPrefix prefixes every Redis key and channel; zero means "pr:".
	KeyPrefix string
	// InstanceID names this edge instance; zero means a generated one.
	InstanceID string
	// Admins are usernames that get the admin role when they register or
	// log in (bootstrap of the first admin).
	Admins []string
	// SigningKeySeed is the 32-byte Ed25519 seed that signs access tokens;
	// every replica of the user service must share it. Zero means a key kept
	// in DataDir/signing-key, created on first start.
	SigningKeySeed []byte
	// Discord enables Discord login when its ClientID is set.
	Discord usersvc.DiscordConfig
	// ServiceKeys sign and check every call between the services (see
	// auth.ServiceKeys); zero value means a random key made at start, in
	// memory: every service runs in this process, so nothing else needs
	// it. Set it (PR_SERVICE_KEY) to let separately run programs, or
	// tools, call this system's gRPC ports.
	ServiceKeys auth.ServiceKeys
	// Tokens are the issuer, audience and clock skew of access tokens: the
	// user service mints with them and every service and the edge verify
	// with them. Zero fields mean the defaults of auth.TokenConfig.
	Tokens auth.TokenConfig
	// Logger; nil means slog.Default(). Its handler should let every level
	// through (cmd/pianorhythm builds it at debug): each service filters by
	// its own level.
	Logger *slog.Logger
	// LogLevel is every service's log level at start; zero means info. Each
	// can be changed while running (MonitorService.SetLogLevel, REST PUT
	// /v1/admin/log-levels/{service}).
	LogLevel slog.Level
	// Per-service settings, as the standalone programs take them. The
	// fields above win where both say something: KeyPrefix, the signing
	// key, admins, Discord and Tokens.
	State     statesvc.Config
	User      usersvc.Config
	Room      roomsvc.Config
	Analytics analyticssvc.Config
	Monitor   monitorsvc.Config
	// Edge configures the connection service (the edge: /ws, /mpp);
	// InstanceID and KeyPrefix above win over its own.
	Edge connsvc.Config
	// Metrics serves /metrics; nil means an empty 404 handler.
	Metrics http.Handler
	// MeterProvider gives every service its meter; nil means no metrics.
	MeterProvider metric.MeterProvider
	// TracerProvider and Propagator trace every gRPC call and the edge;
	// nil means the OpenTelemetry globals (what telemetry.Install sets).
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
}

func (c Config) withDefaults() Config {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.HTTPAddr, ":8080")
	def(&c.StateAddr, "127.0.0.1:9101")
	def(&c.UserAddr, "127.0.0.1:9102")
	def(&c.RoomAddr, "127.0.0.1:9103")
	def(&c.ConnectionAddr, "127.0.0.1:9104")
	def(&c.AnalyticsAddr, "127.0.0.1:9105")
	def(&c.MonitorAddr, "127.0.0.1:9106")
	def(&c.Database, "pianorhythm")
	def(&c.DataDir, "./data")
	def(&c.KeyPrefix, "pr:")
	if c.ServiceKeys.IsZero() {
		c.ServiceKeys = auth.NewServiceKeys()
	}
	c.Tokens = c.Tokens.WithDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MeterProvider == nil {
		c.MeterProvider = noop.NewMeterProvider()
	}
	if c.Metrics == nil {
		c.Metrics = http.NotFoundHandler()
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]string{}
	for name, addr := range map[string]string{
		"http": c.HTTPAddr, "state": c.StateAddr, "user": c.UserAddr, "room": c.RoomAddr,
		"connection": c.ConnectionAddr, "analytics": c.AnalyticsAddr, "monitor": c.MonitorAddr,
	} {
		if prev, dup := seen[addr]; dup && addr != "" && !isAnyPort(addr) {
			errs = append(errs, fmt.Errorf("%s and %s both listen on %s", prev, name, addr))
		}
		seen[addr] = name
	}
	if err := c.Tokens.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func isAnyPort(addr string) bool {
	return len(addr) >= 2 && addr[len(addr)-2:] == ":0"
}
