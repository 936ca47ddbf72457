package token

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
)

// prTokens is a fleet with its own issuer and audience.
var prTokens = auth.TokenConfig{Issuer: "pr", Audience: "pr-api"}

func TestMintVerify(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := NewSigner(nil, prTokens, 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.VerifierConfig{Fetch: func(context.Context) (*pb.JwksResponse, error) { return s.JWKS(), nil }, TokenConfig: prTokens, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	id := auth.Identity{UserID: "u1", DisplayName: "Bob", Roles: []pb.Role{pb.Role_MEMBER}}
	tok, exp, err := s.Mint(id)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(15 * time.Minute)) {
		t.Fatalf("exp = %v", exp)
	}
	got, err := v.Verify(context.Background(), tok)
	if err != nil || got.UserID != "u1" || got.DisplayName != "Bob" || got.Highest() != pb.Role_MEMBER {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	now = now.Add(16 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("expired token accepted")
	}
}

func TestSeedIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.key")
	seed, err := LoadOrCreateSeed(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateSeed(path)
	if err != nil || string(again) != string(seed) {
		t.Fatalf("reload = %x, %v; want %x", again, err, seed)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v", fi.Mode())
	}
	a, _ := NewSigner(seed, prTokens, time.Minute, time.Now)
	b, _ := NewSigner(again, prTokens, time.Minute, time.Now)
	if a.KeyID() != b.KeyID() {
		t.Fatal("same seed, different kid")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSeed(path); err == nil {
		t.Fatal("garbage key file accepted")
	}
	if _, err := NewSigner([]byte("short"), prTokens, time.Minute, time.Now); err == nil {
		t.Fatal("short seed accepted")
	}
}

func TestRefresh(t *testing.T) {
	tok, id := NewRefresh()
	tok2, id2 := NewRefresh()
	if tok == tok2 || id == id2 || RefreshID(tok) != id || id == tok {
		t.Fatal("refresh tokens not random or ids not hashes")
	}
}
