// Package live keeps the live state of PianoRhythm in Redis: users, presence,
// rooms and their members, bans, recent chat, friends, server config,
// refresh tokens, rate-limit windows and edge instance heartbeats.
//
// Every change that several replicas could race on is one Redis operation (a
// Lua script or MULTI), so correctness never depends on there being one
// replica or on the caller's serialisation. Scripts that derive key names
// from the prefix inside Lua (presence moves, refresh tokens) are not Redis
// Cluster safe; see the service README.
//
// A Store is safe for concurrent use.
package live
