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
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/flagenv"
	"github.com/pianorhythm/server/pkg/telemetry"
	"github.com/pianorhythm/server/services/analytics/analyticssvc"
	"github.com/pianorhythm/server/services/connection/connsvc"
	"github.com/pianorhythm/server/services/monitor/monitorsvc"
	"github.com/pianorhythm/server/services/room/roomsvc"
	"github.com/pianorhythm/server/services/state/statesvc"
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
	pprofAddr := fs.String("pprof-addr", "PR_PPROF_ADDR", "", "loopback address serving net/http/pprof for operators, e.g. 127.0.0.1:6060 (empty: off)")
	logLevel := fs.String("log-level", "PR_LOG_LEVEL", "info", "debug, info, warn or error")
	seed := fs.Secret("signing-seed", "PR_USER_SIGNING_SEED", "", "base64 Ed25519 seed signing access tokens (empty: a key kept in -data-dir)")
	discordID := fs.String("discord-client-id", "PR_DISCORD_CLIENT_ID", "", "Discord OAuth2 client id (empty: Discord login off)")
	discordSecret := fs.Secret("discord-client-secret", "PR_DISCORD_CLIENT_SECRET", "", "Discord OAuth2 client secret")
	discordRedirect := fs.String("discord-redirect-url", "PR_DISCORD_REDIRECT_URL", "", "https://host/v1/auth/oauth/discord/callback")
	discordAuth := fs.String("discord-auth-url", "PR_DISCORD_AUTH_URL", "", "Discord authorize endpoint (empty: Discord's)")
	discordToken := fs.String("discord-token-url", "PR_DISCORD_TOKEN_URL", "", "Discord token endpoint (empty: Discord's)")
	discordUser := fs.String("discord-userinfo-url", "PR_DISCORD_USERINFO_URL", "", "Discord user info endpoint (empty: Discord's)")
	otlp := fs.String("otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP gRPC endpoint for traces, host:port or URL (empty: no export)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database")
	// The services' own settings, with the variables the standalone
	// programs read.
	chatHistory := fs.Int("chat-history", "PR_CHAT_HISTORY", 100, "recent chat messages kept per room in Redis")
	chatFlush := fs.Duration("chat-flush-interval", "PR_CHAT_FLUSH_INTERVAL", time.Second, "retry interval of failed chat archive writes")
	keyFile := fs.String("key-file", "PR_USER_KEY_FILE", "", "signing key file (empty: <data-dir>/signing-key)")
	serviceKey := fs.Secret("service-key", "PR_SERVICE_KEY", "", "base64 key (32+ bytes) signing every call between the services (empty: a random one in memory)")
	tokenIssuer := fs.String("token-issuer", "PR_TOKEN_ISSUER", auth.DefaultIssuer, "iss claim access tokens are minted with and must carry")
	tokenAudience := fs.String("token-audience", "PR_TOKEN_AUDIENCE", auth.DefaultAudience, "aud claim access tokens are minted with and must carry")
	tokenLeeway := fs.Duration("token-leeway", "PR_TOKEN_LEEWAY", auth.DefaultLeeway, "clock skew tolerated on access tokens' times")
	accessTTL := fs.Duration("access-ttl", "PR_ACCESS_TTL", 15*time.Minute, "access token lifetime")
	refreshTTL := fs.Duration("refresh-ttl", "PR_REFRESH_TTL", 30*24*time.Hour, "refresh token lifetime")
	loginLimit := fs.Int("login-limit", "PR_LOGIN_LIMIT", 10, "failed logins per 15 minutes per account and address, then locked out")
	grace := fs.Duration("empty-room-grace", "PR_EMPTY_ROOM_GRACE", 30*time.Second, "how long an empty room lives")
	maxCap := fs.Int("max-room-capacity", "PR_MAX_ROOM_CAPACITY", 500, "largest max players staff may give a room (concerts, classes); others keep 20")
	hold := fs.Duration("owner-seat-hold", "PR_OWNER_SEAT_HOLD", 15*time.Second, "how long a departed owner's seat is held")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "", "analytics Redis stream (empty: <key-prefix>analytics:events)")
	group := fs.String("analytics-group", "PR_ANALYTICS_GROUP", "analytics", "analytics consumer group")
	consumer := fs.String("analytics-consumer", "PR_ANALYTICS_CONSUMER", "", "analytics consumer name (empty: hostname-pid)")
	batch := fs.Int("analytics-batch-size", "PR_ANALYTICS_BATCH", 100, "analytics entries read and applied at once")
	claimIdle := fs.Duration("analytics-claim-idle", "PR_ANALYTICS_CLAIM_IDLE", time.Minute, "pending analytics entries idle this long are claimed")
	interval := fs.Duration("check-interval", "PR_MONITOR_CHECK_INTERVAL", 10*time.Second, "time between rounds of health checks")
	history := fs.Int("history", "PR_MONITOR_HISTORY", 360, "checks kept per component for the uptime")
	webhook := fs.Secret("webhook-url", "PR_MONITOR_WEBHOOK_URL", "", "URL POSTed a JSON alert when an error group spikes (empty: log only)")
	spike := fs.Int("spike-threshold", "PR_MONITOR_SPIKE_THRESHOLD", 10, "reports of one error group per minute above which it alerts")
	recentLogs := fs.Int("recent-logs", "PR_MONITOR_RECENT_LOGS", 500, "recent WARN and ERROR log entries kept")
	arriving := fs.Int("max-arriving", "PR_MAX_ARRIVING", 32, "new connections signed in at once; the others wait their turn (up to a minute, then 503)")
	motd := fs.String("mpp-motd", "PR_MPP_MOTD", "", "message of the day of /mpp (Multiplayer Piano clients; empty: a welcome naming the server)")
	proxies := fs.String("trusted-proxies", "PR_TRUSTED_PROXIES", "",
		"comma-separated CIDRs or IPs of the proxies whose X-Forwarded-For names the client (empty: none, the socket's peer is the client)")
	thresholds := fs.String("thresholds", "PR_MONITOR_THRESHOLDS", "", "degraded past these, per component: default:latency=250ms,cpu=85,memory=2GiB,goroutines=10000,connections=500,errors=10;state:latency=100ms (empty: the defaults)")
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
	level, err := telemetry.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("PR_LOG_LEVEL=%q: want debug, info, warn or error", *logLevel)
	}
	th, err := monitorsvc.ParseThresholds(*thresholds)
	if err != nil {
		return fmt.Errorf("PR_MONITOR_THRESHOLDS: %w", err)
	}

	// The shared handler lets everything through; each service filters by
	// its own level, which the admin API changes while it runs.
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "pianorhythm", LogLevel: slog.LevelDebug, OTLPEndpoint: *otlp})
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
	cfg.Database = *database
	cfg.LogLevel = level
	cfg.State = statesvc.Config{ChatHistory: *chatHistory, ChatFlushInterval: *chatFlush}
	cfg.User = usersvc.Config{
		KeyFile: *keyFile, AccessTTL: *accessTTL, RefreshTTL: *refreshTTL, LoginLimit: *loginLimit,
		Discord: usersvc.DiscordConfig{ClientID: *discordID, ClientSecret: *discordSecret, RedirectURL: *discordRedirect,
			AuthURL: *discordAuth, TokenURL: *discordToken, UserInfoURL: *discordUser},
	}
	cfg.Room = roomsvc.Config{EmptyRoomGrace: *grace, OwnerSeatHold: *hold, MaxRoomCapacity: int32(*maxCap)}
	cfg.Edge = connsvc.Config{MPPMOTD: *motd, TrustedProxies: splitList(*proxies), MaxArriving: *arriving}
	cfg.Analytics = analyticssvc.Config{Stream: *stream, Group: *group, Consumer: *consumer, BatchSize: *batch, ClaimIdle: *claimIdle}
	cfg.Monitor = monitorsvc.Config{
		CheckInterval: *interval, History: *history, WebhookURL: *webhook, SpikeThreshold: *spike,
		RecentLogs: *recentLogs, Thresholds: th,
	}
	cfg.Tokens = auth.TokenConfig{Issuer: *tokenIssuer, Audience: *tokenAudience, Leeway: *tokenLeeway}
	if *serviceKey != "" {
		if cfg.ServiceKeys, err = auth.ParseServiceKeys(*serviceKey); err != nil {
			return fmt.Errorf("PR_SERVICE_KEY: %w", err)
		}
	}
	if *seed != "" {
		if cfg.SigningKeySeed, err = base64.StdEncoding.DecodeString(*seed); err != nil {
			return fmt.Errorf("PR_USER_SIGNING_SEED: %w", err)
		}
	}
	cfg.Logger = tel.Logger()
	cfg.Metrics = tel.MetricsHandler()
	cfg.MeterProvider = tel.MeterProvider()
	cfg.Admins = splitList(*admins)

	if *pprofAddr != "" {
		pctx, stopPprof := context.WithCancel(ctx)
		_, done, err := servePprof(pctx, *pprofAddr, cfg.Logger)
		if err != nil {
			stopPprof()
			return err
		}
		defer func() { stopPprof(); <-done }()
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

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
