// Package pkg is the root of the platform kit shared by every service:
// actor (the actor kernel), rpc (gRPC bootstrap), telemetry, store and auth.
package pkg
