// Package centrifuge is the Centrifuge reference of bench/fanout: the same
// room relay semantics as PianoRhythm's note fan-out, built on
// github.com/centrifugal/centrifuge (in-memory broker: a client publishes a
// batch to its room's channel and every subscriber receives it), and the
// load generator's Dialer for it (github.com/centrifugal/centrifuge-go
// over the protobuf protocol; its JSON client costs the generator more
// than the relay). Never imported by the product.
//
// cmd/relay is the server, cmd/load the generator (internal/loadgen's
// command line with -target centrifuge).
package centrifuge
