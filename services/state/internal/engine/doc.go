// Package engine is the state service's logic over its two stores: Redis
// (package live) for what is live, MongoDB (package archive) for what must
// last, and the way back from one to the other when Redis has lost its
// data (a restart of an embedded Redis, a flush, a new server).
//
// An Engine owns nothing in memory: its methods are ordinary concurrent
// code (safe for any number of goroutines and replicas), correct because
// every change that can race is one atomic Redis script. What it writes to
// MongoDB goes through the archive Writer actor, the one part of the
// service that owns state (the batch being written).
package engine
