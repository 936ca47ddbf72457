// Package server is the gRPC face of the state service: it validates each
// request, runs it on the shard that owns its key and maps domain errors to
// status codes in one function (toStatus).
package server
