package usersvc_test

import (
	"context"
	"testing"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/services/user/usersvc"
)

// BenchmarkLogin is one full login over loopback gRPC: two rate-limit
// hits, the MongoDB lookup, argon2id with the default cost (t=2, 19 MiB),
// the state copy and the token pair.
func BenchmarkLogin(b *testing.B) {
	// The defaults spelled out: newEnv makes a zero Password cheap.
	e := newEnv(b, usersvc.Config{LoginLimit: 1 << 30, Password: usersvc.PasswordConfig{Time: 2, MemoryKiB: 19456, Threads: 1}})
	ctx := context.Background()
	if _, err := e.client.Register(ctx, &pb.RegisterRequest{Username: "bench", Password: "bench-password"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.client.Login(ctx, &pb.LoginRequest{Username: "bench", Password: "bench-password"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyToken is the service's own local verification of an
// access token (what its interceptor does per request).
func BenchmarkVerifyToken(b *testing.B) {
	e := newEnv(b, usersvc.Config{})
	resp, err := e.client.CreateGuest(context.Background(), &pb.CreateGuestRequest{})
	if err != nil {
		b.Fatal(err)
	}
	v, tok, ctx := e.svc.Verifier(), resp.GetAccessToken(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
