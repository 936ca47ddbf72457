// Package pkg is the root of the platform kit shared by every service:
// actor (the actor kernel), rpc (gRPC bootstrap), telemetry, store (Redis
// and MongoDB with embedded defaults), track (analytics events), auth
// (identities and token verification), flagenv and boot (how every program
// starts), droplog (overload drops: counted, logged once per period).
package pkg
