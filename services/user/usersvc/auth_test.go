package usersvc_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/services/user/usersvc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestRESTRegisterLoginRefreshLogout(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	reg := e.register("Alice")
	if reg.GetAccessToken() == "" || reg.GetRefreshToken() == "" || reg.GetUser().GetId() == "" {
		t.Fatalf("register = %v", reg)
	}
	if !reg.GetAccessTokenExpiresAt().AsTime().Equal(e.clock.Now().Add(15 * time.Minute)) {
		t.Fatalf("access expiry = %v, want 15 min from now", reg.GetAccessTokenExpiresAt().AsTime())
	}
	var me pb.User
	e.must("GET", "/v1/users/me", reg.GetAccessToken(), nil, &me)
	if me.GetUsername() != "Alice" || me.GetDisplayName() != "Alice" || me.GetRoles()[0] != pb.Role_MEMBER || me.GetGuest() {
		t.Fatalf("me = %v", &me)
	}
	// The state service holds the current record too.
	if u, err := e.state.GetUser(context.Background(), &pb.GetUserRequest{UserId: me.GetId()}); err != nil || u.GetUsername() != "Alice" {
		t.Fatalf("state copy = %v, %v", u, err)
	}

	t.Run("duplicate username any case", func(t *testing.T) {
		code, ae := e.call("POST", "/v1/auth/register", "", &pb.RegisterRequest{Username: "aLICE", Password: "12345678"}, nil)
		if code != http.StatusConflict || ae.reason() != "ALREADY_EXISTS" {
			t.Fatalf("= %d %v", code, ae)
		}
	})
	t.Run("invalid input", func(t *testing.T) {
		for _, r := range []*pb.RegisterRequest{
			{Username: "a", Password: "12345678"},
			{Username: "bob bob", Password: "12345678"},
			{Username: "bob", Password: "short"},
			{Username: "bob", Password: "12345678", DisplayName: strings.Repeat("x", 41)},
		} {
			if code, ae := e.call("POST", "/v1/auth/register", "", r, nil); code != http.StatusBadRequest || ae.reason() != "INVALID_ARGUMENT" {
				t.Errorf("register %v = %d %v", r, code, ae)
			}
		}
	})

	var login pb.AuthResponse
	e.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "alice", Password: "password-Alice"}, &login)
	if login.GetUser().GetId() != me.GetId() {
		t.Fatalf("login user = %v", login.GetUser())
	}

	// Refresh rotates: the new pair works, the old refresh token is spent.
	var r1 pb.AuthResponse
	e.must("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: login.GetRefreshToken()}, &r1)
	if r1.GetRefreshToken() == login.GetRefreshToken() || r1.GetAccessToken() == "" {
		t.Fatal("refresh did not rotate")
	}
	e.must("GET", "/v1/users/me", r1.GetAccessToken(), nil, &me)

	// Reusing the rotated token revokes the whole family: r1 dies too.
	if code, _ := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: login.GetRefreshToken()}, nil); code != http.StatusUnauthorized {
		t.Fatalf("reuse = %d, want 401", code)
	}
	if code, _ := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: r1.GetRefreshToken()}, nil); code != http.StatusUnauthorized {
		t.Fatalf("refresh after family revoked = %d, want 401", code)
	}
	// The registration session is another family and still works.
	var r2 pb.AuthResponse
	e.must("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: reg.GetRefreshToken()}, &r2)

	// Logout revokes; logging out twice is fine.
	e.must("POST", "/v1/auth/logout", "", &pb.LogoutRequest{RefreshToken: r2.GetRefreshToken()}, nil)
	e.must("POST", "/v1/auth/logout", "", &pb.LogoutRequest{RefreshToken: r2.GetRefreshToken()}, nil)
	if code, _ := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: r2.GetRefreshToken()}, nil); code != http.StatusUnauthorized {
		t.Fatalf("refresh after logout = %d, want 401", code)
	}

	// Refresh tokens expire.
	var r3 pb.AuthResponse
	e.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "alice", Password: "password-Alice"}, &r3)
	e.clock.Advance(31 * 24 * time.Hour)
	if code, _ := e.call("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: r3.GetRefreshToken()}, nil); code != http.StatusUnauthorized {
		t.Fatalf("expired refresh = %d, want 401", code)
	}
}

func TestRESTGuest(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	var g pb.AuthResponse
	e.must("POST", "/v1/auth/guest", "", &pb.CreateGuestRequest{}, &g)
	if !g.GetUser().GetGuest() || g.GetUser().GetDisplayName() == "" || !strings.HasPrefix(g.GetUser().GetId(), "g-") {
		t.Fatalf("guest = %v", g.GetUser())
	}
	var me pb.User
	e.must("GET", "/v1/users/me", g.GetAccessToken(), nil, &me)
	if me.GetId() != g.GetUser().GetId() || me.GetRoles()[0] != pb.Role_GUEST {
		t.Fatalf("me = %v", &me)
	}
	var named pb.AuthResponse
	e.must("POST", "/v1/auth/guest", "", &pb.CreateGuestRequest{DisplayName: "Visitor"}, &named)
	if named.GetUser().GetDisplayName() != "Visitor" {
		t.Fatalf("named guest = %v", named.GetUser())
	}
	// Guests may rename themselves, and create rooms but not pro rooms.
	e.must("PATCH", "/v1/users/me", g.GetAccessToken(), &pb.UpdateProfileRequest{DisplayName: ptr("Renamed")}, &me)
	if me.GetDisplayName() != "Renamed" {
		t.Fatalf("renamed guest = %v", &me)
	}
	var perm pb.ValidatePermissionResponse
	e.must("POST", "/v1/users/"+me.GetId()+"/permissions", "", &pb.ValidatePermissionRequest{Action: pb.Action_ACTION_CREATE_ROOM}, &perm)
	if !perm.GetAllowed() {
		t.Fatalf("guest create room = %v", &perm)
	}
	e.must("POST", "/v1/users/"+me.GetId()+"/permissions", "", &pb.ValidatePermissionRequest{Action: pb.Action_ACTION_JOIN_PRO_ROOM}, &perm)
	if perm.GetAllowed() || perm.GetReason() != "PRO_ONLY" {
		t.Fatalf("guest join pro room = %v", &perm)
	}
	var refreshed pb.AuthResponse
	e.must("POST", "/v1/auth/refresh", "", &pb.RefreshRequest{RefreshToken: g.GetRefreshToken()}, &refreshed)
	if refreshed.GetUser().GetDisplayName() != "Renamed" {
		t.Fatalf("refreshed guest = %v", refreshed.GetUser())
	}
}

func TestLoginFailuresSameErrorAndLimited(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	e.register("carol")
	unknown, ae1 := e.call("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "nobody", Password: "whatever1"}, nil)
	wrong, ae2 := e.call("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "carol", Password: "whatever1"}, nil)
	if unknown != http.StatusUnauthorized || wrong != unknown || ae1.Message != ae2.Message || ae1.reason() != ae2.reason() {
		t.Fatalf("unknown user = %d %v; wrong password = %d %v", unknown, ae1, wrong, ae2)
	}
	from := func(ip string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "x-forwarded-for", ip)
	}
	login := func(ip, user, pw string) error {
		_, err := e.client.Login(from(ip), &pb.LoginRequest{Username: user, Password: pw})
		return err
	}
	// Ten wrong passwords for carol from one address lock that pair out,
	// with the end of the lockout in the error, even for the right one.
	for i := range 10 {
		if err := login("203.0.113.7", "carol", "whatever1"); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("failure %d = %v", i, err)
		}
	}
	err := login("203.0.113.7", "carol", "password-carol")
	if rpc.Reason(err) != "LOCKED_OUT" || !strings.Contains(status.Convert(err).Message(), "try again after") {
		t.Fatalf("after 10 failures = %v, want LOCKED_OUT with its end", err)
	}
	// The innocent behind the same address are not locked out: another
	// account logs in from it, and carol from elsewhere.
	e.register("dave")
	if err := login("203.0.113.7", "dave", "password-dave"); err != nil {
		t.Fatalf("another account from the same address = %v", err)
	}
	if err := login("198.51.100.1", "carol", "password-carol"); err != nil {
		t.Fatalf("the right password from another address = %v", err)
	}
	// The window passes.
	e.clock.Advance(15*time.Minute + time.Second)
	if err := login("203.0.113.7", "carol", "password-carol"); err != nil {
		t.Fatalf("after the window = %v", err)
	}

	// Guessing one account from many addresses: 50 failures lock the
	// account's password login for 15 minutes.
	for i := range 50 {
		_ = login(fmt.Sprintf("192.0.2.%d", i), "carol", "whatever1")
	}
	if err := login("198.51.100.1", "carol", "password-carol"); rpc.Reason(err) != "LOCKED_OUT" {
		t.Fatalf("after 50 failures from many addresses = %v, want LOCKED_OUT", err)
	}

	// One address is allowed a generous number of attempts in all, then
	// refused whatever the account.
	e.clock.Advance(15*time.Minute + time.Second)
	for i := range 300 {
		_ = login("203.0.113.9", fmt.Sprintf("nobody%d", i), "whatever1")
	}
	if err := login("203.0.113.9", "dave", "password-dave"); status.Code(err) != codes.ResourceExhausted || rpc.Reason(err) != "RATE_LIMITED" {
		t.Fatalf("attempt 301 from one address = %v, want RATE_LIMITED", err)
	}
}

// TestRegistrationsRateLimitedPerIP: one address registers RegisterLimit
// accounts per window; others are not affected, and the window passes.
func TestRegistrationsRateLimitedPerIP(t *testing.T) {
	e := newEnv(t, usersvc.Config{RegisterLimit: 2, RegisterWindow: time.Hour})
	from := func(ip string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "x-forwarded-for", ip)
	}
	reg := func(ip, name string) error {
		_, err := e.client.Register(from(ip), &pb.RegisterRequest{Username: name, Password: "password-" + name})
		return err
	}
	for _, name := range []string{"reg1", "reg2"} {
		if err := reg("203.0.113.9", name); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	if err := reg("203.0.113.9", "reg3"); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("third registration from one IP = %v, want ResourceExhausted", err)
	}
	if err := reg("198.51.100.4", "reg4"); err != nil {
		t.Fatalf("registration from another IP: %v", err)
	}
	e.clock.Advance(time.Hour)
	if err := reg("203.0.113.9", "reg3"); err != nil {
		t.Fatalf("registration after the window: %v", err)
	}
}

// TestBadTokensRejected: forged, expired and wrong-key tokens get
// Unauthenticated on every authenticated RPC, over gRPC and REST.
func TestBadTokensRejected(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	other := newEnv(t, usersvc.Config{}) // another key
	good := e.register("dave").GetAccessToken()
	wrongKey := other.register("dave").GetAccessToken()

	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	forge := func(kid string) string {
		c := auth.NewClaims(auth.Identity{UserID: "x", Roles: []pb.Role{pb.Role_ADMIN}}, auth.TokenConfig{}, "j", e.clock.Now(), time.Hour)
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tok.Header["kid"] = kid
		s, _ := tok.SignedString(priv)
		return s
	}
	realKid := e.svc.JWKS().GetKeys()[0].GetKid()
	tamper := func(tok string) string { // change the payload, keep the signature
		parts := strings.Split(tok, ".")
		p := []byte(parts[1])
		p[len(p)/2] ^= 1
		return parts[0] + "." + string(p) + "." + parts[2]
	}
	expired := e.register("erin").GetAccessToken()
	e.clock.Advance(16 * time.Minute)
	good = func() string {
		var r pb.AuthResponse
		e.must("POST", "/v1/auth/login", "", &pb.LoginRequest{Username: "dave", Password: "password-dave"}, &r)
		return r.GetAccessToken()
	}()

	bad := map[string]string{
		"forged with real kid": forge(realKid),
		"forged unknown kid":   forge("nope"),
		"wrong key":            wrongKey,
		"expired":              expired,
		"tampered":             tamper(good),
		"garbage":              "abc",
	}
	rpcs := map[string]func(ctx context.Context) error{
		"Me": func(ctx context.Context) error { _, err := e.client.Me(ctx, &pb.MeRequest{}); return err },
		"UpdateProfile": func(ctx context.Context) error {
			_, err := e.client.UpdateProfile(ctx, &pb.UpdateProfileRequest{Color: ptr("#000000")})
			return err
		},
		"ListFriends": func(ctx context.Context) error {
			_, err := e.client.ListFriends(ctx, &pb.ListFriendsRequest{})
			return err
		},
		"GrantRole": func(ctx context.Context) error {
			_, err := e.client.GrantRole(ctx, &pb.GrantRoleRequest{UserId: "x", Role: pb.Role_PRO})
			return err
		},
		"SearchUsers": func(ctx context.Context) error {
			_, err := e.client.SearchUsers(ctx, &pb.SearchUsersRequest{Prefix: "d"})
			return err
		},
		"UpdatePresence": func(ctx context.Context) error {
			_, err := e.client.UpdatePresence(ctx, &pb.UpdatePresenceRequest{UserId: "x"})
			return err
		},
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
			for rpc, call := range rpcs {
				if err := call(ctx); status.Code(err) != codes.Unauthenticated {
					t.Errorf("%s = %v, want Unauthenticated", rpc, err)
				}
			}
			if code, _ := e.call("GET", "/v1/users/me", tok, nil, nil); code != http.StatusUnauthorized {
				t.Errorf("REST me = %d, want 401", code)
			}
			if _, err := e.client.VerifyToken(context.Background(), &pb.VerifyTokenRequest{Token: tok}); status.Code(err) != codes.Unauthenticated {
				t.Errorf("VerifyToken = %v", err)
			}
			if _, err := e.svc.Verifier().Verify(context.Background(), tok); err == nil {
				t.Error("Verifier accepted it")
			}
		})
	}
	// And the good one passes everywhere.
	if u, err := e.client.VerifyToken(context.Background(), &pb.VerifyTokenRequest{Token: good}); err != nil || u.GetUsername() != "dave" {
		t.Fatalf("VerifyToken(good) = %v, %v", u, err)
	}
	// No token at all: Unauthenticated too.
	if _, err := e.client.Me(context.Background(), &pb.MeRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Me without token = %v", err)
	}
}

// TestJWKSAndRemoteVerifier: another service verifies with pkg/auth from
// GET /.well-known/jwks.json.
func TestJWKSAndRemoteVerifier(t *testing.T) {
	e := newEnv(t, usersvc.Config{})
	var jwks pb.JwksResponse
	e.must("GET", "/.well-known/jwks.json", "", nil, &jwks)
	if len(jwks.GetKeys()) != 1 || jwks.GetKeys()[0].GetKty() != "OKP" || jwks.GetKeys()[0].GetCrv() != "Ed25519" {
		t.Fatalf("jwks = %v", &jwks)
	}
	v, err := auth.NewVerifier(auth.VerifierConfig{
		Fetch: func(ctx context.Context) (*pb.JwksResponse, error) { return e.client.Jwks(ctx, &pb.JwksRequest{}) },
		Clock: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := e.register("frank")
	id, err := v.Verify(context.Background(), reg.GetAccessToken())
	if err != nil || id.UserID != reg.GetUser().GetId() || id.DisplayName != "frank" || id.Highest() != pb.Role_MEMBER || id.Guest {
		t.Fatalf("Verify = %+v, %v", id, err)
	}

	// A service of another deployment (same keys, another audience or
	// issuer) refuses the token; the user service configured like it
	// mints tokens only it accepts.
	other := auth.TokenConfig{Issuer: "https://staging.example", Audience: "staging"}
	strict, err := auth.NewVerifier(auth.VerifierConfig{
		Fetch:       func(ctx context.Context) (*pb.JwksResponse, error) { return e.client.Jwks(ctx, &pb.JwksRequest{}) },
		Clock:       e.clock.Now,
		TokenConfig: other,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Verify(context.Background(), reg.GetAccessToken()); err == nil {
		t.Fatal("a verifier of another issuer and audience accepted the token")
	}
	staging := newEnv(t, usersvc.Config{Tokens: other})
	tok := staging.register("gina").GetAccessToken()
	var me pb.User
	staging.must("GET", "/v1/users/me", tok, nil, &me)
	defaults, err := auth.NewVerifier(auth.VerifierConfig{
		Fetch: func(ctx context.Context) (*pb.JwksResponse, error) {
			return staging.client.Jwks(ctx, &pb.JwksRequest{})
		},
		Clock: staging.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := defaults.Verify(context.Background(), tok); err == nil {
		t.Fatal("a verifier with the default issuer and audience accepted a token of the staging configuration")
	}
}

func ptr[T any](v T) *T { return &v }
