package rpc

import (
	"context"
	"strings"
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"github.com/pianorhythm/server/pkg/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Every call between services carries a service credential (see
// auth.ServiceKeys): the client side signs each attempt of each call, the
// server side refuses a call without a valid one before any handler (or
// the identity interceptor) sees it. Only the health service and
// reflection stay open: probes (Kubernetes, load balancers) check health
// without a key, and reflection describes an API whose definition is
// public anyway (/openapi.json, the protos).

// openMethod reports whether a call to fullMethod needs no credential.
func openMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1.ServerReflection/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1alpha.ServerReflection/")
}

// peerCheck verifies the credential of an incoming call and marks the
// context with the calling service.
func peerCheck(ctx context.Context, keys auth.ServiceKeys, method string, now time.Time) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var cred string
	if v := md.Get(auth.MDService); len(v) == 1 {
		cred = v[0]
	} else if len(v) > 1 {
		return ctx, Refuse(pb.ErrorReason_UNAUTHENTICATED, "more than one service credential")
	}
	caller, err := keys.Verify(cred, method, md, now)
	if err != nil {
		// The reason stays generic: the caller learns that it is not a
		// trusted service, not which check it failed.
		return ctx, Refuse(pb.ErrorReason_UNAUTHENTICATED, "internal API: "+err.Error())
	}
	return auth.WithPeer(ctx, caller), nil
}

func peerUnary(keys auth.ServiceKeys) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if openMethod(info.FullMethod) {
			return handler(ctx, req)
		}
		ctx, err := peerCheck(ctx, keys, info.FullMethod, time.Now())
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func peerStream(keys auth.ServiceKeys) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if openMethod(info.FullMethod) {
			return handler(srv, ss)
		}
		ctx, err := peerCheck(ss.Context(), keys, info.FullMethod, time.Now())
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}

// identityUnary resolves the caller's identity (auth.UnaryServerInterceptor)
// on every method but the open ones, which need none: a probe's health
// check succeeds whatever metadata it carries.
func identityUnary(tokens auth.TokenVerifier) grpc.UnaryServerInterceptor {
	resolve := auth.UnaryServerInterceptor(tokens)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if openMethod(info.FullMethod) {
			return handler(ctx, req)
		}
		return resolve(ctx, req, info, handler)
	}
}

// contextStream is a server stream with a context of its own.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// sign returns ctx with the credential of a call to method by caller,
// covering the metadata ctx already carries. Any credential the context
// carried is replaced (a retry signs afresh).
func sign(ctx context.Context, keys auth.ServiceKeys, caller, method string) (context.Context, error) {
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Delete(auth.MDService)
	cred, err := keys.Sign(caller, method, md, time.Now())
	if err != nil {
		return ctx, err
	}
	md.Set(auth.MDService, cred)
	return metadata.NewOutgoingContext(ctx, md), nil
}

// SignUnary is the client interceptor that adds the service credential to
// every call (rpc.Dial installs it; use it with a plain grpc.NewClient, as
// tests and tools do).
func SignUnary(keys auth.ServiceKeys, caller string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx, err := sign(ctx, keys, caller, method)
		if err != nil {
			return Refuse(pb.ErrorReason_INTERNAL, err.Error())
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// SignStream is SignUnary for streams.
func SignStream(keys auth.ServiceKeys, caller string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx, err := sign(ctx, keys, caller, method)
		if err != nil {
			return nil, Refuse(pb.ErrorReason_INTERNAL, err.Error())
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
}

// WithServiceCredentials are the dial options that sign every call as
// caller with keys.
func WithServiceCredentials(keys auth.ServiceKeys, caller string) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(SignUnary(keys, caller)),
		grpc.WithChainStreamInterceptor(SignStream(keys, caller)),
	}
}
