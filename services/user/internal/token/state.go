package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// stateAudience keeps OAuth state tokens and access tokens apart: a state
// has no subject, so the access token verifier refuses it, and ParseState
// refuses anything without this audience.
const stateAudience = "oauth-state"

type stateClaims struct {
	jwt.RegisteredClaims
	// Link is the account that asked to link the provider, if any.
	Link string `json:"link,omitempty"`
}

// MintState returns a signed OAuth2 state valid for ttl, so the callback
// can trust it on any replica without server-side storage. Its nonce (the
// jti) lets the caller make it single-use.
func (s *Signer) MintState(link string, ttl time.Duration) (string, error) {
	now := s.now()
	c := stateClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.tokens.Issuer, Audience: jwt.ClaimStrings{stateAudience}, ID: randomID(16),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Link: link,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.priv)
	if err != nil {
		return "", fmt.Errorf("sign oauth state: %w", err)
	}
	return signed, nil
}

// ParseState checks a state made by MintState and returns its nonce and
// link.
func (s *Signer) ParseState(state string) (nonce, link string, err error) {
	var c stateClaims
	p := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithAudience(stateAudience),
		jwt.WithIssuer(s.tokens.Issuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.now))
	pub := s.priv.Public()
	if _, err := p.ParseWithClaims(state, &c, func(*jwt.Token) (any, error) { return pub, nil }); err != nil {
		return "", "", fmt.Errorf("parse oauth state: %w", err)
	}
	if c.ID == "" {
		return "", "", errors.New("parse oauth state: no nonce")
	}
	return c.ID, c.Link, nil
}
