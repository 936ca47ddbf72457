// Package usersvc is the user service (UserManager): accounts, guests,
// sessions, profiles, roles, friends, presence and search, served as the
// gRPC pb.UserService.
//
// Storage: accounts live in MongoDB (collection "users", a unique index on
// the lowercased username and on the Discord id, a search index on the
// lowercased display name). Guests live only in the state service; ids of
// guests start with "g-". The current record of every user is also written
// to the state service (SaveUser) so other services read it quickly.
// Refresh tokens, presence, friend relations, user events and rate-limit
// counters all go through the state service, which owns every Redis key.
//
// Tokens: access tokens are Ed25519 JWTs (kid = RFC 7638 thumbprint) that
// any service verifies with pkg/auth against the Jwks RPC
// (GET /.well-known/jwks.json). Refresh tokens are opaque, stored hashed,
// rotated on every use; presenting a rotated one revokes its whole family.
// Without Config.SigningKeySeed or Config.KeyFile the key is generated at
// start, and every token dies with the process.
//
// Bootstrapping the first admin: list the username in Config.Admins (env
// PR_ADMINS="alice,bob" for cmd/user); it gets ADMIN when it registers or
// logs in. Admins then grant roles with GrantRole.
//
// Other services' tests get a token from a real user service: start it
// with New and call CreateGuest or Register over gRPC.
package usersvc
