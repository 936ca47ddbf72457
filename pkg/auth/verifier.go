package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

var (
	// ErrUnknownKey is returned for a token whose kid is not in the key set,
	// even after a refresh.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrKeysUnavailable is returned when no key set could be fetched yet;
	// the interceptor answers Unavailable for it, not Unauthenticated, since
	// the token may well be good.
	ErrKeysUnavailable = errors.New("signing keys unavailable")
)

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Fetch returns the current key set, typically the user service's Jwks
	// RPC (or a local function in the user service itself). Required.
	Fetch func(ctx context.Context) (*pb.JwksResponse, error)
	// MinRefreshInterval is the least time between two fetches, so that
	// tokens with made-up key ids cannot turn into a flood of fetches.
	// Zero value means 10s.
	MinRefreshInterval time.Duration
	// MaxKeyAge is how long a fetched key set is trusted before the next
	// Verify refetches it, so that a retired key stops verifying. Zero
	// value means 1h.
	MaxKeyAge time.Duration
	// TokenConfig is what a token must say (issuer, audience) and the
	// clock skew tolerated: the one configuration every service and the
	// edge share (boot and allinone pass the same one to all).
	TokenConfig
	// Clock is the time source; zero value means time.Now.
	Clock func() time.Time
}

func (c VerifierConfig) withDefaults() VerifierConfig {
	if c.MinRefreshInterval <= 0 {
		c.MinRefreshInterval = 10 * time.Second
	}
	if c.MaxKeyAge <= 0 {
		c.MaxKeyAge = time.Hour
	}
	c.TokenConfig = c.TokenConfig.WithDefaults()
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c VerifierConfig) Validate() error {
	if c.Fetch == nil {
		return errors.New("auth: verifier: Fetch is required")
	}
	if err := c.TokenConfig.Validate(); err != nil {
		return fmt.Errorf("auth: verifier: %w", err)
	}
	return nil
}

// Verifier checks access tokens against a JWKS it fetches lazily and caches.
// An unknown key id triggers a refetch (at most one per MinRefreshInterval),
// so a key rotation on the user service is picked up at once. It is safe
// for concurrent use and starts no goroutines.
type Verifier struct {
	cfg    VerifierConfig
	parser *jwt.Parser
	keys   atomic.Pointer[keySet]

	fetchMu   sync.Mutex // one fetch at a time
	lastFetch time.Time  // guarded by fetchMu: last attempt, successful or not
}

type keySet struct {
	keys    map[string]ed25519.PublicKey
	fetched time.Time
}

var _ TokenVerifier = (*Verifier)(nil)

// NewVerifier returns a Verifier; it fetches nothing until the first Verify.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Clock),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
	}
	return &Verifier{cfg: cfg, parser: jwt.NewParser(opts...)}, nil
}

// Verify checks the token's signature, expiry, issuer and audience and
// returns the identity it carries.
func (v *Verifier) Verify(ctx context.Context, token string) (Identity, error) {
	var claims Claims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		return v.key(ctx, kid)
	})
	if err != nil {
		if errors.Is(err, ErrKeysUnavailable) {
			return Identity{}, ErrKeysUnavailable
		}
		return Identity{}, fmt.Errorf("verify token: %w", err)
	}
	if claims.Subject == "" {
		return Identity{}, errors.New("verify token: no subject")
	}
	return claims.Identity(), nil
}

// key returns the public key kid, refreshing the set when it is stale or
// does not know kid.
func (v *Verifier) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	ks := v.keys.Load()
	if ks != nil && v.cfg.Clock().Sub(ks.fetched) < v.cfg.MaxKeyAge {
		if k, ok := ks.keys[kid]; ok {
			return k, nil
		}
	}
	ks, err := v.refresh(ctx, ks)
	if ks == nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if k, ok := ks.keys[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// refresh fetches the key set unless another caller already replaced seen
// or the last attempt is too recent; it returns the freshest set it has
// (possibly the stale one, when the fetch failed).
func (v *Verifier) refresh(ctx context.Context, seen *keySet) (*keySet, error) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if cur := v.keys.Load(); cur != seen {
		return cur, nil // someone refreshed while we waited
	}
	now := v.cfg.Clock()
	if !v.lastFetch.IsZero() && now.Sub(v.lastFetch) < v.cfg.MinRefreshInterval {
		return seen, errors.New("key set refreshed too recently")
	}
	v.lastFetch = now
	resp, err := v.cfg.Fetch(ctx)
	if err != nil {
		return seen, fmt.Errorf("fetch jwks: %w", err)
	}
	ks := &keySet{keys: make(map[string]ed25519.PublicKey, len(resp.GetKeys())), fetched: now}
	for _, k := range resp.GetKeys() {
		pub, err := ParseJWK(k)
		if err != nil || k.GetKid() == "" {
			continue // keys of other kinds are not ours to use
		}
		ks.keys[k.GetKid()] = pub
	}
	v.keys.Store(ks)
	return ks, nil
}

// Refresh fetches the key set now, regardless of MinRefreshInterval
// (for a caller that knows the keys changed).
func (v *Verifier) Refresh(ctx context.Context) error {
	v.fetchMu.Lock()
	v.lastFetch = time.Time{}
	seen := v.keys.Load()
	v.fetchMu.Unlock()
	_, err := v.refresh(ctx, seen)
	return err
}
