// Package logsink is the LogSink (the SeqLoggerActor of the original
// server): a slog.Handler wrapper copies WARN and ERROR records, with their
// trace ids, to an actor that keeps the most recent ones in a ring buffer.
package logsink
