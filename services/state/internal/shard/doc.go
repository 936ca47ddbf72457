// Package shard runs the state service's requests on a fixed set of shard
// actors under a one-for-one supervisor. Manager (the StateManager of the
// design) routes each request by consistent hash of its key (a room or
// user id), so requests for one key run one at a time and in order, while
// different keys use every core.
//
// The Manager routes in the caller's goroutine instead of through a
// mailbox of its own: a single routing actor would put every request of
// the service through one goroutine, and routing is a pure function of the
// key.
package shard
