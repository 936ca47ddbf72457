// Command user runs the user service (UserManager) alone, on its gRPC port.
// Every flag has an environment variable; the configuration is printed at
// start with secrets masked.
//
// The signing key is kept in PR_USER_KEY_FILE (default
// <data dir>/user-signing.key, created on first start), so tokens survive
// a restart. Every replica must share one key file (or PR_USER_SIGNING_SEED).
// PR_ADMINS lists usernames that become admins when they register or log
// in: the way to make the first admin.
package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/boot"
	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/services/user/usersvc"
)

func main() { boot.Main("user", "127.0.0.1:9102", run) }

func run(ctx context.Context, p *boot.Program) error {
	fs := p.Flags
	stateAddr := p.Peer("state", "127.0.0.1:9101")
	mongoURI := fs.Secret("mongodb-uri", "MONGODB_URI", "", "MongoDB URI (empty: embedded FerretDB under the data dir)")
	database := fs.String("mongodb-database", "PR_MONGODB_DATABASE", "pianorhythm", "MongoDB database")
	dataDir := fs.String("data-dir", "PR_DATA_DIR", "./data", "data directory (embedded MongoDB, signing key)")
	keyFile := fs.String("key-file", "PR_USER_KEY_FILE", "", "signing key file (empty: <data-dir>/user-signing.key)")
	seed := fs.Secret("signing-seed", "PR_USER_SIGNING_SEED", "", "base64 Ed25519 seed; wins over the key file")
	accessTTL := fs.Duration("access-ttl", "PR_ACCESS_TTL", 15*time.Minute, "access token lifetime")
	refreshTTL := fs.Duration("refresh-ttl", "PR_REFRESH_TTL", 30*24*time.Hour, "refresh token lifetime")
	admins := fs.String("admins", "PR_ADMINS", "", "comma-separated usernames that become admins at register or login")
	loginLimit := fs.Int("login-limit", "PR_LOGIN_LIMIT", 10, "failed logins per 15 minutes per account and address, then locked out")
	discordID := fs.String("discord-client-id", "PR_DISCORD_CLIENT_ID", "", "Discord OAuth2 client id (empty: Discord login off)")
	discordSecret := fs.Secret("discord-client-secret", "PR_DISCORD_CLIENT_SECRET", "", "Discord OAuth2 client secret")
	discordRedirect := fs.String("discord-redirect-url", "PR_DISCORD_REDIRECT_URL", "", "https://host/v1/auth/oauth/discord/callback")
	discordAuth := fs.String("discord-auth-url", "PR_DISCORD_AUTH_URL", "", "authorize endpoint (empty: Discord's)")
	discordToken := fs.String("discord-token-url", "PR_DISCORD_TOKEN_URL", "", "token endpoint (empty: Discord's)")
	discordUser := fs.String("discord-userinfo-url", "PR_DISCORD_USERINFO_URL", "", "user info endpoint (empty: Discord's)")
	redisURL := fs.Secret("redis-url", "REDIS_URL", "", "Redis URL for analytics events (empty: events are dropped)")
	stream := fs.String("analytics-stream", "PR_ANALYTICS_STREAM", "pr:analytics:events", "analytics Redis stream")
	if err := p.Parse(ctx); err != nil {
		return err
	}

	cfg := usersvc.Config{
		AccessTTL: *accessTTL, RefreshTTL: *refreshTTL, Tokens: p.TokenConfig(), KeyFile: *keyFile, LoginLimit: *loginLimit,
		Discord: usersvc.DiscordConfig{ClientID: *discordID, ClientSecret: *discordSecret, RedirectURL: *discordRedirect,
			AuthURL: *discordAuth, TokenURL: *discordToken, UserInfoURL: *discordUser},
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = filepath.Join(*dataDir, "user-signing.key")
	}
	if *seed != "" {
		var err error
		if cfg.SigningKeySeed, err = base64.StdEncoding.DecodeString(*seed); err != nil {
			return fmt.Errorf("PR_USER_SIGNING_SEED: %w", err)
		}
	}
	for _, a := range strings.Split(*admins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Admins = append(cfg.Admins, a)
		}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	mongo, err := p.Mongo(ctx, store.MongoConfig{URI: *mongoURI, Database: *database, DataDir: *dataDir})
	if err != nil {
		return err
	}
	stateConn, err := p.Dial("state", *stateAddr)
	if err != nil {
		return err
	}
	// Guests, sessions and presence live in the state service.
	if err := p.WaitServing(ctx, stateConn, pb.StateService_ServiceDesc.ServiceName); err != nil {
		return err
	}
	deps := usersvc.Deps{
		State: pb.NewStateServiceClient(stateConn), Mongo: mongo.DB, Logger: p.Log,
		Meter: p.Meter(), OnPanic: p.ActorPanics, OnGiveUp: p.ActorGaveUp,
	}
	if *redisURL != "" {
		rdb, err := p.Redis(ctx, *redisURL)
		if err != nil {
			return err
		}
		deps.Events = p.Events(rdb, *stream)
	}
	svc, err := usersvc.New(cfg, deps)
	if err != nil {
		return err
	}
	p.Defer(svc.Close)
	p.ReadyWhen(svc.Ready)
	// The user service verifies its own tokens without a network hop.
	p.SetTokens(svc.Verifier())
	return p.Serve(ctx, pb.UserService_ServiceDesc.ServiceName, svc.Register)
}
