package usersvc

import (
	"errors"
	"fmt"
	"github.com/pianorhythm/server/pkg/actor"
	"log/slog"
	"net/http"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
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
	// Tokens are the issuer and audience access tokens are minted with
	// and checked for (and the clock skew tolerated): the same settings
	// every other verifier of the fleet uses. Zero fields mean the
	// defaults of auth.TokenConfig.
	Tokens auth.TokenConfig
	// Discord enables Discord login when ClientID is set.
	Discord DiscordConfig
	// Admins are usernames (case-insensitive) that get ADMIN when they
	// register or log in: how the first admin is made.
	Admins []string
	// LoginLimit is how many failed logins one account may have from one
	// IP per LoginWindow before that pair is locked out until the window
	// ends; zero value means 10. Failures only: the right password from
	// another address, or another account from the same address, still
	// works (a school or a NAT shares one address).
	LoginLimit int
	// LoginAccountLimit is how many failed logins one account may have
	// from all addresses together per LoginWindow (a guessing attack spread
	// over many addresses); zero value means 50.
	LoginAccountLimit int
	// LoginIPLimit is a generous ceiling on all login attempts from one
	// address per LoginWindow; zero value means 300.
	LoginIPLimit int
	// LoginWindow: zero value means 15m.
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
	// UserManagers sizes the UserManager pool (accounts are spread over
	// it by id); zero value means 8.
	UserManagers int
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
	c.Tokens = c.Tokens.WithDefaults()
	if c.LoginLimit <= 0 {
		c.LoginLimit = 10
	}
	if c.LoginAccountLimit <= 0 {
		c.LoginAccountLimit = 50
	}
	if c.LoginIPLimit <= 0 {
		c.LoginIPLimit = 300
	}
	if c.LoginWindow <= 0 {
		c.LoginWindow = 15 * time.Minute
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
	if c.UserManagers <= 0 {
		c.UserManagers = 8
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if n := len(c.SigningKeySeed); n != 0 && n != 32 {
		return fmt.Errorf("user config: SigningKeySeed has %d bytes, want 32", n)
	}
	if err := c.Tokens.Validate(); err != nil {
		return fmt.Errorf("user config: %w", err)
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
	// OnGiveUp reports an actor the service's root supervisor gave up on
	// (the monitor's error tracker); nil means it is only logged. Ready
	// fails from then on.
	OnGiveUp func(actor.GaveUp)
	// Meter records the actor metrics; nil means no metrics.
	Meter metric.Meter
	// Events receives analytics events (logins, logouts, friend requests
	// and friendships); nil drops them.
	Events Events
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
