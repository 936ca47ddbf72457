package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
)

// fuzzKey is a fixed key, so the committed seed tokens stay valid.
var fuzzKey = func() testKey {
	priv := ed25519.NewKeyFromSeed([]byte("pianorhythm fuzz key seed 32 by!"))
	pub := priv.Public().(ed25519.PublicKey)
	return testKey{kid: auth.KeyID(pub), priv: priv, pub: pub}
}()

// fuzzSubject is who the one valid seed token speaks for.
var fuzzSubject = auth.Identity{UserID: "u-fuzz", DisplayName: "Fuzz", Roles: []pb.Role{pb.Role_MEMBER}}

// FuzzVerify: whatever string arrives as a bearer token, Verify does not
// panic, and it accepts only what the key signed: a token it accepts
// speaks for the identity signed in the valid seed, never for a mutated
// one (no change to header, claims or signature makes another identity
// pass). The seed corpus is testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	is := &issuer{}
	is.add(fuzzKey)
	v, err := auth.NewVerifier(auth.VerifierConfig{Fetch: is.fetch, Clock: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	// The valid seed (testdata/fuzz/FuzzVerify/valid) is this token; it
	// must pass, or the target would check nothing.
	valid := sign(f, fuzzKey, auth.NewClaims(fuzzSubject, auth.TokenConfig{}, "jti", t0, 15*time.Minute))
	if _, err := v.Verify(context.Background(), valid); err != nil {
		f.Fatalf("the valid seed token is refused: %v", err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(context.Background(), token)
		if err != nil {
			return
		}
		if id.UserID != fuzzSubject.UserID || id.DisplayName != fuzzSubject.DisplayName || !slices.Equal(id.Roles, fuzzSubject.Roles) || id.Guest {
			t.Fatalf("Verify(%q) accepted identity %+v, which the key never signed", token, id)
		}
	})
}

// FuzzClaims: whatever JSON a token's payload holds, the identity read
// from it holds each known role at most once and nothing unknown or
// unspecified, and names the subject.
func FuzzClaims(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var c auth.Claims
		if json.Unmarshal(payload, &c) != nil {
			return
		}
		id := c.Identity()
		if id.UserID != c.Subject {
			t.Fatalf("identity %q for subject %q", id.UserID, c.Subject)
		}
		seen := map[pb.Role]bool{}
		for _, r := range id.Roles {
			if _, known := pb.Role_name[int32(r)]; !known || r == pb.Role_ROLE_UNSPECIFIED || seen[r] {
				t.Fatalf("roles %v from %q", id.Roles, c.Roles)
			}
			seen[r] = true
		}
	})
}
