// Package connsvc is the connection service (the edge): the WebSocket
// endpoints /ws (our protocol) and /mpp (Multiplayer Piano's, the same
// rooms and rules), the REST gateway /v1/... for every service,
// /openapi.json, /metrics, /healthz, /readyz and the web client, plus the
// ConnectionService admin RPCs, the instance heartbeat and the
// GhostTracker.
//
// New starts everything; Close stops it and waits.
package connsvc
