package allinone

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/pianorhythm/server/services/user/usersvc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
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
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Metrics serves /metrics; nil means an empty 404 handler.
	Metrics http.Handler
	// MeterProvider gives every service its meter; nil means no metrics.
	MeterProvider metric.MeterProvider
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
	return errors.Join(errs...)
}

func isAnyPort(addr string) bool {
	return len(addr) >= 2 && addr[len(addr)-2:] == ":0"
}
