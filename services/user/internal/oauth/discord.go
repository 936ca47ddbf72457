// Package oauth logs people in with Discord (OAuth2 authorization code
// flow). Endpoints are configurable so tests point it at a fake provider.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/oauth2"
)

// Discord's public endpoints, the defaults of Config.
const (
	DiscordAuthURL     = "https://discord.com/oauth2/authorize"
	DiscordTokenURL    = "https://discord.com/api/oauth2/token"
	DiscordUserInfoURL = "https://discord.com/api/users/@me"
)

// Config configures the Discord provider.
type Config struct {
	ClientID     string
	ClientSecret string
	// AuthURL, TokenURL and UserInfoURL: zero values mean Discord's.
	AuthURL     string
	TokenURL    string
	UserInfoURL string
	// RedirectURL is this server's callback, registered with Discord, for
	// example https://example.com/v1/auth/oauth/discord/callback.
	RedirectURL string
	// Scopes: zero value means ["identify"].
	Scopes []string
}

// Identity is who Discord says the user is.
type Identity struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
}

// Name is the name to show: the global display name, else the username.
func (i Identity) Name() string {
	if i.GlobalName != "" {
		return i.GlobalName
	}
	return i.Username
}

// Provider runs the flow. It is safe for concurrent use.
type Provider struct {
	cfg      oauth2.Config
	userInfo string
	client   *http.Client
}

// New returns a Provider; client (nil: http.DefaultClient) makes the token
// and user-info requests.
func New(cfg Config, client *http.Client) *Provider {
	if cfg.AuthURL == "" {
		cfg.AuthURL = DiscordAuthURL
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = DiscordTokenURL
	}
	if cfg.UserInfoURL == "" {
		cfg.UserInfoURL = DiscordUserInfoURL
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"identify"}
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &Provider{
		cfg: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		userInfo: cfg.UserInfoURL,
		client:   client,
	}
}

// AuthCodeURL is where to send the browser; state comes back to the
// callback unchanged.
func (p *Provider) AuthCodeURL(state string) string {
	return p.cfg.AuthCodeURL(state, oauth2.SetAuthURLParam("prompt", "none"))
}

// Exchange trades the callback's code for a token and returns the user it
// belongs to.
func (p *Provider) Exchange(ctx context.Context, code string) (Identity, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	tok, err := p.cfg.Exchange(ctx, code)
	if err != nil {
		return Identity{}, fmt.Errorf("exchange code: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.userInfo, nil)
	if err != nil {
		return Identity{}, fmt.Errorf("user info request: %w", err)
	}
	tok.SetAuthHeader(req)
	resp, err := p.client.Do(req)
	if err != nil {
		return Identity{}, fmt.Errorf("fetch user info: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Identity{}, fmt.Errorf("fetch user info: status %d", resp.StatusCode)
	}
	var id Identity
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&id); err != nil {
		return Identity{}, fmt.Errorf("decode user info: %w", err)
	}
	if id.ID == "" {
		return Identity{}, errors.New("user info has no id")
	}
	return id, nil
}
