// Package actors holds the user service's actors (pkg/actor):
//
//   - UserManager: one actor; every account write (register, OAuth
//     create/link, profile, roles, badges, bans, guests) goes through it, so
//     read-modify-write sequences on one account never interleave.
//   - Session: a round-robin pool; issues access and refresh tokens and
//     rotates refresh tokens. The state service consumes a refresh token
//     atomically, so the pool members need no coordination.
//   - Friend: a consistent-hash pool keyed by the pair of users a message
//     concerns (or the one user of a listing), so two people acting on one
//     friendship at once are handled in order.
//   - SearchProvider: one actor answering name-prefix searches.
//
// Expensive pure work (argon2id) happens in the caller's goroutine before
// asking, so an actor's mailbox never waits behind a password hash.
// Actors call MongoDB and the state service with Env.OpTimeout as the
// deadline, since pkg/actor hands them the sender's context without its
// cancellation.
package actors
