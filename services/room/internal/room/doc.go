// Package room is the room service's core: the Manager, which supervises one
// Room actor per live room, the actor that serializes everything that
// happens to its room, and the gRPC handlers in front of them.
//
// The state service is the source of truth. A Room actor caches its room and
// members only to answer chat quickly and reloads them from state before
// every decision that changes membership, ownership or settings, so several
// replicas of the room service stay correct on one store: capacity, bans and
// maintenance are checked atomically by state's AddUserToRoom; the rest
// (password, pro-only, guests, ownership) is decided here.
//
// Callers whose identity has a UserID starting with "system:" are internal
// services (the edge's GhostTracker uses "system:ghost-tracker"): they may
// remove any user from a room.
package room
