// Package monitorsvc is the monitor service: the StatusPageMonitor (gRPC
// health of every service, Redis and MongoDB, checked on an interval, with
// a /status page), the ErrorTracker (error reports and panics grouped by
// fingerprint, webhook alerts on spikes) and the LogSink (recent warnings
// and errors). Each is an actor of the service's own actor system.
//
// Besides MonitorService over gRPC it offers in-process hooks: Report and
// ReportPanic for errors, PanicReporter for actor systems, LogHandler to
// copy a logger's warnings and errors, and StatusHandler for /status.
package monitorsvc
