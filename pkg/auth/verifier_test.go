package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type testKey struct {
	kid  string
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func newKey(t testing.TB) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: auth.KeyID(pub), priv: priv, pub: pub}
}

// issuer is a fake user service: a key set that can rotate and a counter
// of fetches.
type issuer struct {
	mu      sync.Mutex
	keys    []testKey
	fetches atomic.Int32
	fail    atomic.Bool
}

func (is *issuer) fetch(context.Context) (*pb.JwksResponse, error) {
	is.fetches.Add(1)
	if is.fail.Load() {
		return nil, errors.New("user service down")
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	resp := &pb.JwksResponse{}
	for _, k := range is.keys {
		resp.Keys = append(resp.Keys, auth.PublicJWK(k.kid, k.pub))
	}
	return resp, nil
}

func (is *issuer) add(k testKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = append(is.keys, k)
}

var (
	t0    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alice = auth.Identity{UserID: "u-alice", DisplayName: "Alice", Roles: []pb.Role{pb.Role_MEMBER, pb.Role_PRO}}
)

func sign(t testing.TB, k testKey, c *auth.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()).UTC() }
func (c *clock) Set(t time.Time)         { c.now.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func newVerifier(t testing.TB, is *issuer, clk *clock) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(auth.VerifierConfig{Fetch: is.fetch, Clock: clk.Now, MinRefreshInterval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifier(t *testing.T) {
	good, other := newKey(t), newKey(t)
	is := &issuer{}
	is.add(good)
	claims := func(mod func(c *auth.Claims)) *auth.Claims {
		c := auth.NewClaims(alice, auth.TokenConfig{}, "jti-1", t0, 15*time.Minute)
		if mod != nil {
			mod(c)
		}
		return c
	}
	forgedKid := other
	forgedKid.kid = good.kid // signed by another key under the real kid
	hmacToken := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil))
		tok.Header["kid"] = good.kid
		s, err := tok.SignedString([]byte(good.pub)) // alg confusion attempt
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	noneToken := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
		tok.Header["kid"] = good.kid
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name  string
		token string
		at    time.Time
		ok    bool
	}{
		{"valid", sign(t, good, claims(nil)), t0.Add(time.Minute), true},
		{"expired", sign(t, good, claims(nil)), t0.Add(16 * time.Minute), false},
		{"expired within leeway", sign(t, good, claims(nil)), t0.Add(15*time.Minute + 2*time.Second), true},
		{"not yet valid", sign(t, good, claims(nil)), t0.Add(-time.Minute), false},
		{"forged signature", sign(t, forgedKid, claims(nil)), t0, false},
		{"unknown key", sign(t, other, claims(nil)), t0, false},
		{"wrong issuer", sign(t, good, claims(func(c *auth.Claims) { c.Issuer = "evil" })), t0, false},
		{"no issuer", sign(t, good, claims(func(c *auth.Claims) { c.Issuer = "" })), t0, false},
		{"wrong audience", sign(t, good, claims(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"another-app"} })), t0, false},
		{"no audience", sign(t, good, claims(func(c *auth.Claims) { c.Audience = nil })), t0, false},
		{"our audience among others", sign(t, good, claims(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"x", "pianorhythm"} })), t0, true},
		{"oauth state token", sign(t, good, claims(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"oauth-state"} })), t0, false},
		{"no subject", sign(t, good, claims(func(c *auth.Claims) { c.Subject = "" })), t0, false},
		{"no expiry", sign(t, good, claims(func(c *auth.Claims) { c.ExpiresAt = nil })), t0, false},
		{"hmac with public key", hmacToken(), t0, false},
		{"alg none", noneToken(), t0, false},
		{"garbage", "not.a.jwt", t0, false},
		{"empty", "", t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{}
			clk.Set(tt.at)
			v := newVerifier(t, is, clk)
			id, err := v.Verify(context.Background(), tt.token)
			if tt.ok != (err == nil) {
				t.Fatalf("Verify err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (id.UserID != alice.UserID || id.DisplayName != alice.DisplayName || id.Highest() != pb.Role_PRO || id.Guest) {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}

func TestVerifierKeyRotationAndRefreshLimit(t *testing.T) {
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	is := &issuer{}
	is.add(k1)
	clk := &clock{}
	clk.Set(t0)
	v := newVerifier(t, is, clk)
	ctx := context.Background()
	tok := func(k testKey) string {
		return sign(t, k, auth.NewClaims(alice, auth.TokenConfig{}, "j", clk.Now(), time.Hour))
	}

	if _, err := v.Verify(ctx, tok(k1)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok(k1)); err != nil {
		t.Fatal(err)
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetches after two verifies = %d, want 1 (cached)", n)
	}

	// A new key appears; the first token signed with it triggers a refetch
	// once the minimum interval has passed.
	is.add(k2)
	clk.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, tok(k2)); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}

	// Unknown kids do not refetch more than once per interval.
	clk.Advance(11 * time.Second)
	for range 5 {
		if _, err := v.Verify(ctx, tok(k3)); !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("unknown key err = %v", err)
		}
	}
	if n := is.fetches.Load(); n != 3 {
		t.Fatalf("fetches after unknown kids = %d, want 3", n)
	}

	// A stale key set is refetched; when that fails the old keys still work.
	is.fail.Store(true)
	clk.Advance(2 * time.Hour)
	if _, err := v.Verify(ctx, tok(k1)); err != nil {
		t.Fatalf("stale keys with fetch failing: %v", err)
	}
}

func TestVerifierKeysUnavailable(t *testing.T) {
	is := &issuer{}
	is.fail.Store(true)
	clk := &clock{}
	clk.Set(t0)
	v := newVerifier(t, is, clk)
	k := newKey(t)
	tok := sign(t, k, auth.NewClaims(alice, auth.TokenConfig{}, "j", t0, time.Hour))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	// The interceptor answers Unavailable, not Unauthenticated.
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	_, err := auth.UnaryServerInterceptor(v)(ctx, nil, &grpc.UnaryServerInfo{}, func(ctx context.Context, req any) (any, error) { return nil, nil })
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("interceptor code = %v, want Unavailable", status.Code(err))
	}
}

func TestInterceptorWithVerifier(t *testing.T) {
	good, bad := newKey(t), newKey(t)
	is := &issuer{}
	is.add(good)
	clk := &clock{}
	clk.Set(t0)
	v := newVerifier(t, is, clk)
	handler := func(ctx context.Context, req any) (any, error) {
		id, err := auth.Require(ctx)
		return id, err
	}
	tests := []struct {
		name  string
		token string
		code  codes.Code
	}{
		{"valid", sign(t, good, auth.NewClaims(alice, auth.TokenConfig{}, "j", t0, time.Hour)), codes.OK},
		{"wrong key", sign(t, bad, auth.NewClaims(alice, auth.TokenConfig{}, "j", t0, time.Hour)), codes.Unauthenticated},
		{"expired", sign(t, good, auth.NewClaims(alice, auth.TokenConfig{}, "j", t0.Add(-2*time.Hour), time.Hour)), codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tt.token))
			got, err := auth.UnaryServerInterceptor(v)(ctx, nil, &grpc.UnaryServerInfo{}, handler)
			if status.Code(err) != tt.code {
				t.Fatalf("code = %v, want %v (%v)", status.Code(err), tt.code, err)
			}
			if tt.code == codes.OK && got.(auth.Identity).UserID != alice.UserID {
				t.Fatalf("identity = %+v", got)
			}
		})
	}
}

func TestVerifierConcurrent(t *testing.T) {
	k := newKey(t)
	is := &issuer{}
	is.add(k)
	clk := &clock{}
	clk.Set(t0)
	v := newVerifier(t, is, clk)
	tok := sign(t, k, auth.NewClaims(alice, auth.TokenConfig{}, "j", t0, time.Hour))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestJWKRoundTrip(t *testing.T) {
	k := newKey(t)
	if auth.KeyID(k.pub) != auth.KeyID(append(ed25519.PublicKey(nil), k.pub...)) {
		t.Fatal("KeyID not stable")
	}
	got, err := auth.ParseJWK(auth.PublicJWK(k.kid, k.pub))
	if err != nil || !got.Equal(k.pub) {
		t.Fatalf("ParseJWK = %v, %v", got, err)
	}
	for _, bad := range []*pb.Jwk{
		{Kty: "RSA", Crv: "Ed25519", X: "AA"},
		{Kty: "OKP", Crv: "Ed25519", X: "!!"},
		{Kty: "OKP", Crv: "Ed25519", X: "AAAA"},
		{Kty: "OKP", Crv: "Ed25519", Alg: "RS256", X: auth.PublicJWK("", k.pub).X},
	} {
		if _, err := auth.ParseJWK(bad); err == nil {
			t.Errorf("ParseJWK(%v) accepted", bad)
		}
	}
}

// TestVerifierChecksTheConfiguredIssuerAndAudience: a fleet configured
// with its own issuer and audience refuses tokens minted with the
// defaults (another deployment's) and with either one foreign, and the
// configuration cannot switch either check off.
func TestVerifierChecksTheConfiguredIssuerAndAudience(t *testing.T) {
	k := newKey(t)
	is := &issuer{}
	is.add(k)
	ours := auth.TokenConfig{Issuer: "https://piano.example", Audience: "piano-api"}
	v, err := auth.NewVerifier(auth.VerifierConfig{Fetch: is.fetch, TokenConfig: ours})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tt := range []struct {
		name string
		cfg  auth.TokenConfig
		ok   bool
	}{
		{"ours", ours, true},
		{"defaults", auth.TokenConfig{}, false},
		{"foreign issuer", auth.TokenConfig{Issuer: "https://evil.example", Audience: ours.Audience}, false},
		{"foreign audience", auth.TokenConfig{Issuer: ours.Issuer, Audience: "other-api"}, false},
	} {
		_, err := v.Verify(context.Background(), sign(t, k, auth.NewClaims(alice, tt.cfg, "j", now, time.Hour)))
		if (err == nil) != tt.ok {
			t.Errorf("%s: Verify = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if _, err := auth.NewVerifier(auth.VerifierConfig{Fetch: is.fetch, TokenConfig: auth.TokenConfig{Leeway: time.Hour}}); err == nil {
		t.Error("a leeway of an hour was accepted")
	}
}

func BenchmarkVerifyToken(b *testing.B) {
	k := newKey(b)
	is := &issuer{}
	is.add(k)
	v, err := auth.NewVerifier(auth.VerifierConfig{Fetch: is.fetch})
	if err != nil {
		b.Fatal(err)
	}
	tok := sign(b, k, auth.NewClaims(alice, auth.TokenConfig{}, "j", time.Now(), time.Hour))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
