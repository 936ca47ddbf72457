// Package actors holds the user service's logic. One part is an actor
// (pkg/actor), because it owns state in memory; the rest owns nothing and
// is ordinary concurrent code (an actor there would only add a queue):
//
//   - UserManager: a consistent-hash pool keyed by account (UserKey). Each
//     member is the one writer, in its process, of the accounts routed to
//     it (register, OAuth create/link, profile, roles, badges, bans,
//     guests), so read-modify-write sequences on one account never
//     interleave while different accounts are written in parallel, and it
//     owns those accounts as it last read or wrote them (a copy at most
//     AccountCacheTTL old).
//   - Session: issues access and refresh tokens and rotates refresh
//     tokens; the state service consumes a refresh token atomically.
//   - Friend: friend requests, lists and presence; one friendship is
//     handled one request at a time in a process (a lock by pair).
//   - SearchProvider: name-prefix searches (the SearchProviderAPI).
//
// Expensive pure work (argon2id) happens in the caller's goroutine before
// asking, so an actor's mailbox never waits behind a password hash. Calls
// to MongoDB and the state service are bounded by Env.OpTimeout within the
// caller's own deadline.
package actors
