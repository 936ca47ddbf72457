// Command pianorhythm runs the whole PianoRhythm server in one process:
// embedded (or configured) Redis and MongoDB, every service on its own
// loopback gRPC port, and the edge on :8080. Open the printed URL.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pianorhythm/server/internal/allinone"
	"github.com/pianorhythm/server/pkg/flagenv"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/user/usersvc"
)

// shutdownTimeout bounds a graceful stop after SIGINT/SIGTERM.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "pianorhythm: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flagenv.New("pianorhythm")
	var cfg allinone.Config
	httpAddr := fs.String("http", "PR_HTTP_ADDR", ":8080", "edge HTTP address: WebSocket, REST, web client")
	redisURL := fs.String("redis-url", "REDIS_URL", "", "Redis URL; empty runs an embedded Redis")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI; empty runs an embedded FerretDB under -data-dir")
	dataDir := fs.String("data-dir", "PR_DATA_DIR", "./data", "directory of the embedded MongoDB and the token signing key")
	keyPrefix := fs.String("key-prefix", "PR_KEY_PREFIX", "pr:", "prefix of every Redis key and channel")
	instance := fs.String("instance-id", "PR_INSTANCE_ID", "", "name of this edge instance; empty generates one")
	admins := fs.String("admins", "PR_ADMINS", "", "comma-separated usernames that become admins when they register or log in")
	logLevel := fs.String("log-level", "PR_LOG_LEVEL", "info", "debug, info, warn or error")
	seed := fs.Secret("signing-seed", "PR_USER_SIGNING_SEED", "", "base64 Ed25519 seed signing access tokens (empty: a key kept in -data-dir)")
	discordID := fs.String("discord-client-id", "PR_DISCORD_CLIENT_ID", "", "Discord OAuth2 client id (empty: Discord login off)")
	discordSecret := fs.Secret("discord-client-secret", "PR_DISCORD_CLIENT_SECRET", "", "Discord OAuth2 client secret")
	discordRedirect := fs.String("discord-redirect-url", "PR_DISCORD_REDIRECT_URL", "", "https://host/v1/auth/oauth/discord/callback")
	addrs := []struct {
		dst        *string
		flag, env  string
		def, usage string
	}{
		{&cfg.StateAddr, "state-addr", "PR_STATE_ADDR", "127.0.0.1:9101", "state service gRPC address"},
		{&cfg.UserAddr, "user-addr", "PR_USER_ADDR", "127.0.0.1:9102", "user service gRPC address"},
		{&cfg.RoomAddr, "room-addr", "PR_ROOM_ADDR", "127.0.0.1:9103", "room service gRPC address"},
		{&cfg.ConnectionAddr, "connection-addr", "PR_CONNECTION_ADDR", "127.0.0.1:9104", "connection service gRPC address"},
		{&cfg.AnalyticsAddr, "analytics-addr", "PR_ANALYTICS_ADDR", "127.0.0.1:9105", "analytics service gRPC address"},
		{&cfg.MonitorAddr, "monitor-addr", "PR_MONITOR_ADDR", "127.0.0.1:9106", "monitor service gRPC address"},
	}
	addrVals := make([]*string, len(addrs))
	for i, a := range addrs {
		addrVals[i] = fs.String(a.flag, a.env, a.def, a.usage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	for i, a := range addrs {
		*a.dst = *addrVals[i]
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("PR_LOG_LEVEL=%q: want debug, info, warn or error", *logLevel)
	}

	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "pianorhythm", LogLevel: level})
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	tel.Install()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = tel.Shutdown(sctx)
	}()

	fmt.Fprintln(os.Stderr, "pianorhythm configuration:")
	fs.Print(os.Stderr)

	cfg.HTTPAddr = *httpAddr
	cfg.RedisURL = *redisURL
	cfg.MongoURI = *mongoURI
	cfg.DataDir = *dataDir
	cfg.KeyPrefix = *keyPrefix
	cfg.InstanceID = *instance
	cfg.Discord = usersvc.DiscordConfig{ClientID: *discordID, ClientSecret: *discordSecret, RedirectURL: *discordRedirect}
	if *seed != "" {
		if cfg.SigningKeySeed, err = base64.StdEncoding.DecodeString(*seed); err != nil {
			return fmt.Errorf("PR_USER_SIGNING_SEED: %w", err)
		}
	}
	cfg.Logger = tel.Logger()
	cfg.Metrics = tel.MetricsHandler()
	cfg.MeterProvider = tel.MeterProvider()
	for _, a := range strings.Split(*admins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Admins = append(cfg.Admins, a)
		}
	}

	sys, err := allinone.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("PianoRhythm is running: open %s\n", sys.URL())
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "pianorhythm: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := sys.Close(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
