package rpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
)

// TestServerRefusesCallersWithoutACredential: a caller without the fleet's
// service key gets Unauthenticated on every method (the handler never
// runs), forged identity metadata included; health stays open for probes;
// a signed caller gets through with the identity it vouches for.
func TestServerRefusesCallersWithoutACredential(t *testing.T) {
	fake := newFakeState()
	var seen auth.Identity
	var peer string
	fake.setHandler(func(ctx context.Context, _ string) error {
		seen, _ = auth.FromContext(ctx)
		peer, _ = auth.PeerFromContext(ctx)
		return nil
	})
	srv := startServer(t, rpc.ServerConfig{Name: "state"}, fake)
	srv.SetServing("pianorhythm.v1.StateService", true)
	ctx := t.Context()
	admin := auth.OutgoingContext(ctx, auth.Identity{UserID: "mallory", Roles: []pb.Role{pb.Role_ADMIN}})

	otherKeys, err := rpc.NewClient(rpc.ClientConfig{Target: srv.Addr(), ServiceKeys: auth.NewServiceKeys(), Logger: quietLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = otherKeys.Close() })
	for name, conn := range map[string]grpc.ClientConnInterface{
		"no credential":         unsignedConn(t, srv.Addr()),
		"another fleet's key":   otherKeys,
		"a credential replayed": replaying(t, srv.Addr()),
		"a user's bearer token": unsignedConn(t, srv.Addr()),
	} {
		t.Run(name, func(t *testing.T) {
			callCtx := admin
			if name == "a user's bearer token" {
				callCtx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer x.y.z")
			}
			_, err := pb.NewStateServiceClient(conn).GetUser(callCtx, &pb.GetUserRequest{UserId: "u1"})
			assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
			assert.Equal(t, "UNAUTHENTICATED", rpc.Reason(err))
			_, err = pb.NewDiagnosticsServiceClient(conn).GetDiagnostics(callCtx, &pb.GetDiagnosticsRequest{})
			assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
		})
	}
	assert.Zero(t, fake.count("GetUser"), "no refused call reached the handler")

	res, err := healthpb.NewHealthClient(unsignedConn(t, srv.Addr())).Check(admin, &healthpb.HealthCheckRequest{Service: "pianorhythm.v1.StateService"})
	require.NoError(t, err, "health is open to probes, whatever metadata they carry")
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, res.GetStatus())

	_, err = pb.NewStateServiceClient(plainConn(t, srv.Addr())).GetUser(admin, &pb.GetUserRequest{UserId: "u1"})
	require.NoError(t, err)
	assert.Equal(t, "mallory", seen.UserID, "an authenticated peer's identity metadata counts")
	assert.Equal(t, "test", peer)
}

// replaying is a connection that sends, on every call, the credential
// minted for another method (GetConfig) a moment ago.
func replaying(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	cred, err := keys.Sign("edge", "/pianorhythm.v1.StateService/GetConfig", nil, time.Now())
	require.NoError(t, err)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, auth.MDService, cred), method, req, reply, cc, opts...)
		}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestServerWithoutKeysDoesNotStart: a server that would trust everyone
// cannot be built.
func TestServerWithoutKeysDoesNotStart(t *testing.T) {
	_, err := rpc.NewServer(rpc.ServerConfig{Logger: quietLogger()})
	require.ErrorContains(t, err, "service keys")
}

// TestRetriedAttemptsAreAccepted: every attempt of a call gRPC retries
// carries the call's credential (valid for a minute), so retries work like
// first attempts.
func TestRetriedAttemptsAreAccepted(t *testing.T) {
	fake := newFakeState()
	fake.setHandler(func(ctx context.Context, _ string) error {
		if fake.count("GetUser") < 3 {
			return status.Error(codes.Unavailable, "try again")
		}
		return nil
	})
	srv := startServer(t, rpc.ServerConfig{}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{Retry: rpc.RetryConfig{MaxAttempts: 3}})
	_, err := client.GetUser(t.Context(), &pb.GetUserRequest{UserId: "u1"})
	require.NoError(t, err)
	assert.Equal(t, 3, fake.count("GetUser"))
}

// TestTokensAreVerifiedOnEveryServer: the built-in identity interceptor
// verifies a forwarded bearer token with ServerConfig.Tokens.
func TestTokensAreVerifiedOnEveryServer(t *testing.T) {
	fake := newFakeState()
	var seen auth.Identity
	fake.setHandler(func(ctx context.Context, _ string) error {
		seen, _ = auth.FromContext(ctx)
		return nil
	})
	srv := startServer(t, rpc.ServerConfig{Tokens: tokenTable{"good": {UserID: "u7"}}}, fake)
	state := pb.NewStateServiceClient(plainConn(t, srv.Addr()))
	bearer := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
	}
	_, err := state.GetUser(bearer("good"), &pb.GetUserRequest{})
	require.NoError(t, err)
	assert.Equal(t, "u7", seen.UserID)
	_, err = state.GetUser(bearer("bad"), &pb.GetUserRequest{})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))

	noTokens := startServer(t, rpc.ServerConfig{}, newFakeState())
	_, err = pb.NewStateServiceClient(plainConn(t, noTokens.Addr())).GetUser(bearer("good"), &pb.GetUserRequest{})
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "a server without a verifier refuses tokens")
}

// tokenTable is a TokenVerifier for pure logic: known tokens and who
// they are.
type tokenTable map[string]auth.Identity

func (tt tokenTable) Verify(_ context.Context, token string) (auth.Identity, error) {
	if id, ok := tt[token]; ok {
		return id, nil
	}
	return auth.Identity{}, status.Error(codes.Unauthenticated, "unknown token")
}

// TestIdentityWithAUnicodeNameTravels: a display name outside ASCII
// reaches the callee intact, under a credential that checks out.
func TestIdentityWithAUnicodeNameTravels(t *testing.T) {
	fake := newFakeState()
	var seen auth.Identity
	fake.setHandler(func(ctx context.Context, _ string) error {
		seen, _ = auth.FromContext(ctx)
		return nil
	})
	srv := startServer(t, rpc.ServerConfig{}, fake)
	_, client := dial(t, srv, rpc.ClientConfig{})
	name := "Zoë 🎹 ピアノ"
	_, err := client.GetUser(auth.OutgoingContext(t.Context(), auth.Identity{UserID: "u1", DisplayName: name}), &pb.GetUserRequest{})
	require.NoError(t, err)
	assert.Equal(t, name, seen.DisplayName)
}
