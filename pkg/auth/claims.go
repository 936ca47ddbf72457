package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Claims are the claims of an access token: sub is the user id, the kid
// header names the Ed25519 key that signed it. The user service mints them
// with NewClaims; Verifier reads them back.
type Claims struct {
	jwt.RegisteredClaims
	// Name is the display name when the token was issued.
	Name string `json:"name,omitempty"`
	// Roles are role names ("MEMBER", "ADMIN").
	Roles []string `json:"roles,omitempty"`
	Guest bool     `json:"guest,omitempty"`
}

// NewClaims returns the claims of an access token for id, issued at now and
// expiring ttl later, with the issuer and audience of cfg (its zero fields
// mean the defaults). tokenID becomes the jti claim.
func NewClaims(id Identity, cfg TokenConfig, tokenID string, now time.Time, ttl time.Duration) *Claims {
	cfg = cfg.WithDefaults()
	roles := make([]string, 0, len(id.Roles))
	for _, r := range id.Roles {
		roles = append(roles, r.String())
	}
	return &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    cfg.Issuer,
			Audience:  jwt.ClaimStrings{cfg.Audience},
			Subject:   id.UserID,
			ID:        tokenID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Name:  id.DisplayName,
		Roles: roles,
		Guest: id.Guest,
	}
}

// Identity is who the claims speak for. Unknown role names are ignored so
// that an older verifier accepts tokens carrying roles added later.
func (c *Claims) Identity() Identity {
	id := Identity{UserID: c.Subject, DisplayName: c.Name, Guest: c.Guest}
	for _, name := range c.Roles {
		if v, ok := pb.Role_value[name]; ok && v != 0 && !slices.Contains(id.Roles, pb.Role(v)) {
			id.Roles = append(id.Roles, pb.Role(v))
		}
	}
	return id
}

// JWK algorithm constants for Ed25519 keys (RFC 8037).
const (
	jwkKty = "OKP"
	jwkCrv = "Ed25519"
	jwkAlg = "EdDSA"
	jwkUse = "sig"
)

// PublicJWK describes pub as a JSON Web Key with id kid.
func PublicJWK(kid string, pub ed25519.PublicKey) *pb.Jwk {
	return &pb.Jwk{
		Kty: jwkKty, Crv: jwkCrv, Alg: jwkAlg, Use: jwkUse, Kid: kid,
		X: base64.RawURLEncoding.EncodeToString(pub),
	}
}

// KeyID is the RFC 7638 thumbprint of pub, a stable key id: the same key
// always gets the same id, on every replica.
func KeyID(pub ed25519.PublicKey) string {
	// Members in lexicographic order, no whitespace, as RFC 7638 requires.
	canon := fmt.Sprintf(`{"crv":"%s","kty":"%s","x":"%s"}`, jwkCrv, jwkKty, base64.RawURLEncoding.EncodeToString(pub))
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ParseJWK returns the Ed25519 public key of k.
func ParseJWK(k *pb.Jwk) (ed25519.PublicKey, error) {
	if k.GetKty() != jwkKty || k.GetCrv() != jwkCrv {
		return nil, fmt.Errorf("jwk %q: unsupported key type %s/%s", k.GetKid(), k.GetKty(), k.GetCrv())
	}
	if alg := k.GetAlg(); alg != "" && alg != jwkAlg {
		return nil, fmt.Errorf("jwk %q: unsupported alg %q", k.GetKid(), alg)
	}
	if use := k.GetUse(); use != "" && use != jwkUse {
		return nil, fmt.Errorf("jwk %q: unsupported use %q", k.GetKid(), use)
	}
	x, err := base64.RawURLEncoding.DecodeString(k.GetX())
	if err != nil {
		return nil, fmt.Errorf("jwk %q: decode x: %w", k.GetKid(), err)
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, errors.New("jwk " + k.GetKid() + ": wrong key size")
	}
	return ed25519.PublicKey(x), nil
}
