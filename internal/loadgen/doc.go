// Package loadgen drives a room relay with many WebSocket clients and
// measures note fan-out: N clients join R rooms, the players of each room
// send note batches at a rate, each stamped with its send time, and every
// other member of the room records how long the batch took to reach it.
// It also measures the cost of arrival (connecting and joining) and, for a
// server running on this machine, its CPU time and resident memory from
// /proc, per 1,000 deliveries and per connection.
//
// The relay is reached through a Dialer: PianoRhythm's /ws (Proto or JSON
// subprotocol, which bench/fanout/naive speaks too) is here; the
// Centrifuge reference brings its own (bench/fanout/centrifuge). Runs are
// bounded in clients and time, and meant for loopback only.
package loadgen
