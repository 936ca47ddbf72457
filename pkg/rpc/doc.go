// Package rpc bootstraps gRPC servers and clients the same way in every
// service: health, reflection, OpenTelemetry, panic recovery and request
// logging on the server; deadlines, OpenTelemetry, a circuit breaker per
// target and retries of idempotent methods on the client.
package rpc
