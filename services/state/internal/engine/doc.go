// Package engine is the state service's logic over its two stores: Redis
// (package live) for what is live, MongoDB (package archive) for what must
// last, and the recovery from one to the other after a Redis flush.
//
// Engine methods take validated arguments and are called from the shard
// actors; they are safe for concurrent use, and correct across replicas
// because every racing change is one Redis operation.
package engine
