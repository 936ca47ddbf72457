// Package token issues the user service's credentials: Ed25519-signed
// access JWTs (with the JWKS that verifies them) and opaque refresh tokens.
package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"google.golang.org/protobuf/proto"
)

// Signer mints access tokens with one Ed25519 key. It is immutable and safe
// for concurrent use.
type Signer struct {
	priv   ed25519.PrivateKey
	kid    string
	tokens auth.TokenConfig
	ttl    time.Duration
	now    func() time.Time
	jwks   *pb.JwksResponse
}

// NewSigner returns a Signer whose key comes from seed (ed25519.SeedSize
// bytes), or a new random key when seed is empty; its tokens carry the
// issuer and audience of tokens (zero fields: the defaults).
func NewSigner(seed []byte, tokens auth.TokenConfig, ttl time.Duration, now func() time.Time) (*Signer, error) {
	var priv ed25519.PrivateKey
	switch len(seed) {
	case 0:
		var err error
		if _, priv, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
	case ed25519.SeedSize:
		priv = ed25519.NewKeyFromSeed(seed)
	default:
		return nil, fmt.Errorf("signing key seed: %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	if ttl <= 0 {
		return nil, errors.New("access token ttl must be positive")
	}
	pub := priv.Public().(ed25519.PublicKey)
	kid := auth.KeyID(pub)
	return &Signer{
		priv: priv, kid: kid, tokens: tokens.WithDefaults(), ttl: ttl, now: now,
		jwks: &pb.JwksResponse{Keys: []*pb.Jwk{auth.PublicJWK(kid, pub)}},
	}, nil
}

// KeyID is the kid of the signing key.
func (s *Signer) KeyID() string { return s.kid }

// JWKS returns the key set that verifies the tokens of s (a copy the caller
// may keep).
func (s *Signer) JWKS() *pb.JwksResponse { return proto.Clone(s.jwks).(*pb.JwksResponse) }

// Mint returns a signed access token for id and its expiry.
func (s *Signer) Mint(id auth.Identity) (string, time.Time, error) {
	now := s.now()
	claims := auth.NewClaims(id, s.tokens, randomID(12), now, s.ttl)
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.priv)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, claims.ExpiresAt.Time, nil
}

// randomID returns n random bytes in base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
