package usersvc

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/user/internal/oauth"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/metric"
)

// Config configures the service. The zero value is usable (with a key
// that dies with the process and Discord login disabled).
type Config struct {
	// AccessTTL is the life of access tokens; zero value means 15m.
	AccessTTL time.Duration
	// RefreshTTL is the life of refresh tokens; zero value means 30 days.
	RefreshTTL time.Duration
	// SigningKeySeed is the 32-byte Ed25519 seed of the signing key; it
	// wins over KeyFile. Every replica must share one key.
	SigningKeySeed []byte
	// KeyFile holds the base64 seed; created with a new key when missing.
	// Zero value (and no seed) means a key generated at start: tokens then
	// die with the process.
	KeyFile string
	// Issuer is the iss claim; zero value means "pianorhythm".
	Issuer string
	// Discord enables Discord login when ClientID is set.
	Discord DiscordConfig
	// Admins are usernames (case-insensitive) that get ADMIN when they
	// register or log in: how the first admin is made.
	Admins []string
	// LoginLimit is how many login attempts one account, and one IP, may
	// make per LoginWindow; zero value means 10.
	LoginLimit int
	// LoginWindow: zero value means 1m.
	LoginWindow time.Duration
	// RegisterLimit is how many accounts one IP may register per
	// RegisterWindow; zero value means 20.
	RegisterLimit int
	// RegisterWindow: zero value means 1h.
	RegisterWindow time.Duration
	// Password sets the argon2id cost; zero fields mean t=2, 19 MiB, p=1.
	Password PasswordConfig
	// OpTimeout bounds each MongoDB or state call; zero value means 5s.
	OpTimeout time.Duration
	// SessionActors and FriendActors size the pools; zero values mean 4
	// and 8.
	SessionActors int
	FriendActors  int
}

// DiscordConfig configures Discord OAuth2 login; endpoint zero values
// mean Discord's own.
type DiscordConfig struct {
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
	// RedirectURL is the callback registered with Discord
	// (https://host/v1/auth/oauth/discord/callback).
	RedirectURL string
}

// PasswordConfig is the argon2id cost.
type PasswordConfig struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

func (c Config) withDefaults() Config {
	if c.AccessTTL <= 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if c.Issuer == "" {
		c.Issuer = "pianorhythm"
	}
	if c.LoginLimit <= 0 {
		c.LoginLimit = 10
	}
	if c.LoginWindow <= 0 {
		c.LoginWindow = time.Minute
	}
	if c.RegisterLimit <= 0 {
		c.RegisterLimit = 20
	}
	if c.RegisterWindow <= 0 {
		c.RegisterWindow = time.Hour
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = 5 * time.Second
	}
	if c.SessionActors <= 0 {
		c.SessionActors = 4
	}
	if c.FriendActors <= 0 {
		c.FriendActors = 8
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if n := len(c.SigningKeySeed); n != 0 && n != 32 {
		return fmt.Errorf("user config: SigningKeySeed has %d bytes, want 32", n)
	}
	if c.Discord.ClientID != "" && (c.Discord.ClientSecret == "" || c.Discord.RedirectURL == "") {
		return errors.New("user config: Discord needs ClientSecret and RedirectURL with ClientID")
	}
	for _, a := range c.Admins {
		if strings.TrimSpace(a) == "" {
			return errors.New("user config: empty admin username")
		}
	}
	return nil
}

func (d DiscordConfig) oauth() oauth.Config {
	return oauth.Config{ClientID: d.ClientID, ClientSecret: d.ClientSecret, AuthURL: d.AuthURL, TokenURL: d.TokenURL, UserInfoURL: d.UserInfoURL, RedirectURL: d.RedirectURL}
}

// Deps are the service's collaborators.
type Deps struct {
	// State is the state service. Required.
	State pb.StateServiceClient
	// Mongo is the database holding the users collection. Required.
	Mongo *mongo.Database
	// Logger: nil means discard.
	Logger *slog.Logger
	// Clock: nil means time.Now.
	Clock func() time.Time
	// HTTPClient makes the OAuth2 requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// OnPanic reports panics caught in the service's actors (the monitor's
	// error tracker); nil means they are only logged.
	OnPanic func(kind string, value any, stack []byte)
	// Meter records the actor metrics; nil means no metrics.
	Meter metric.Meter
}

func (d Deps) withDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	return d
}

func (d Deps) validate() error {
	if d.State == nil || d.Mongo == nil {
		return errors.New("user deps: State and Mongo are required")
	}
	return nil
}
