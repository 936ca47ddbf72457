// Package archive keeps in MongoDB what must outlast Redis: every chat
// message, persistent rooms and users' online sessions. Archive is the
// MongoDB access (safe for concurrent use); Writer is the batch-receiving
// actor that groups chat and session writes into ordered bulk writes.
package archive
