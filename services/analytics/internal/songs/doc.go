// Package songs is the SheetMusicStatsTracker: a small song catalogue in
// MongoDB (title, author, tags, note count, duration), plays and favorites
// per song in Redis hashes, top songs in a sorted set, and a difficulty
// score from note density. Writes go through the actor; reads go straight
// to the stores.
package songs
