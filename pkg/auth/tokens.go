package auth

import (
	"errors"
	"strings"
	"time"
)

// Defaults of TokenConfig.
const (
	DefaultIssuer   = "pianorhythm"
	DefaultAudience = "pianorhythm"
	DefaultLeeway   = 5 * time.Second
)

// TokenConfig is what an access token must say and how much clock skew is
// tolerated. The user service mints its tokens with Issuer and Audience,
// and every verifier (each service and the edge) checks both with the same
// values: a token of another issuer or for another audience is refused
// everywhere, even when signed with a key of the set. The zero value means
// the defaults.
type TokenConfig struct {
	// Issuer is the iss claim; zero value means DefaultIssuer.
	Issuer string
	// Audience is the aud claim; zero value means DefaultAudience.
	Audience string
	// Leeway tolerates clock skew on exp, nbf and iat; zero value means
	// DefaultLeeway.
	Leeway time.Duration
}

// WithDefaults fills the zero fields.
func (c TokenConfig) WithDefaults() TokenConfig {
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.Leeway <= 0 {
		c.Leeway = DefaultLeeway
	}
	return c
}

// Validate reports a configuration no token could pass.
func (c TokenConfig) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Issuer) != c.Issuer {
		errs = append(errs, errors.New("token issuer has surrounding spaces"))
	}
	if strings.TrimSpace(c.Audience) != c.Audience {
		errs = append(errs, errors.New("token audience has surrounding spaces"))
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		errs = append(errs, errors.New("token leeway must be between 0 and 5m"))
	}
	return errors.Join(errs...)
}
