// Package actors holds benchmarks comparing pkg/actor with protoactor-go on
// the same workloads: ping-pong between two actors, fan-in from parallel
// producers to one actor, and request/response. See README.md for results.
package actors
