// Package mpptest is an independent Multiplayer Piano client for tests:
// its own JSON structs of what a real MPP client sends (send.go) and reads
// (receive.go), and a small WebSocket client (client.go). It is written from
// the protocol description in PROTOCOL.md, not from package mpp, which it
// must never import: the tests of mpp check the translation against it.
package mpptest
