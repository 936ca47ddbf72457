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
// caller set none, the connection's circuit breaker (only faults of a
// connected server, UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN and
// DATA_LOSS, count; a refusal with a reason is an answer, and a call failed
// because the connection is down counts as nothing; while open every call
// fails at once with UNAVAILABLE), retries on UNAVAILABLE with jittered
// backoff of the methods whose proto declares them free of side effects
// (option idempotency_level; gRPC's own retries, from the service config
// Dial sets), and otelgrpc. The connection itself
// reconnects with a backoff capped at 1s and pings an idle peer every 10s,
// so a service that comes back is used again within about a second,
// however long it was away.
// Dial returns the *grpc.ClientConn; NewClient returns a Client that also
// reports the breaker state.
//
// Error and Reason carry the client protocol's refusal reasons (ROOM_FULL,
// BANNED, ...) on status errors as google.rpc.ErrorInfo.
package rpc
