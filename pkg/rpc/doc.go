// Package rpc bootstraps gRPC servers and clients the same way in every
// service: health, reflection, OpenTelemetry, panic recovery and request
// logging on the server; deadlines, OpenTelemetry, a circuit breaker per
// target and retries of idempotent methods on the client.
//
// A server listens as soon as NewServer returns, so its address is known
// (and a taken port reported) before anything is registered:
//
//	srv, err := rpc.NewServer(rpc.ServerConfig{Name: "state", Addr: ":9101", Logger: tel.Logger()})
//	pb.RegisterStateServiceServer(srv.GRPC(), svc)
//	srv.SetServing("pianorhythm.v1.StateService", true)
//	err = srv.Serve(ctx) // until ctx is done, then a bounded graceful stop
//
// The server's interceptors run in this order: request logging, panic
// recovery (a panic becomes codes.Internal and goes to OnPanic), then
// ServerConfig.UnaryInterceptors (auth).
//
// A client connection applies, per unary call: a default deadline when the
// caller set none, the connection's circuit breaker (only server faults,
// UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN and DATA_LOSS, count;
// while open every call fails at once with UNAVAILABLE), retries of
// idempotent methods on UNAVAILABLE with jittered backoff, and otelgrpc.
// Dial returns the *grpc.ClientConn; NewClient returns a Client that also
// reports the breaker state.
//
// Error and Reason carry the client protocol's refusal reasons (ROOM_FULL,
// BANNED, ...) on status errors as google.rpc.ErrorInfo.
package rpc
