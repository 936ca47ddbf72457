// Package e2e holds the edge's integration tests: real WebSocket clients
// against one or two edge instances and the real state, user and room
// services, all in-process on loopback with storetest stores.
package e2e
