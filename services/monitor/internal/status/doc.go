// Package status is the StatusPageMonitor: it probes components (gRPC
// health of every service, Redis, MongoDB), keeps a bounded history of the
// results per component in an actor, and renders the /status page.
//
// Probes run outside the actor, concurrently and under a timeout, so a slow
// component never delays a status query; the actor only records results and
// answers queries.
package status
