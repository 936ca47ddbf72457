// Package gateway builds the REST side of the edge: the grpc-gateway mux
// for every service (registered in one loop), the header policy that
// forwards a client's Authorization but never its x-pr-* identity headers,
// and the readiness handler that asks each dependency's gRPC health.
package gateway
