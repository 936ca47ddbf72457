// Package songs is the SheetMusicStatsTracker: a small song catalogue in
// MongoDB (title, author, tags, note count, duration, and a difficulty
// score from note density), plays, completions, accuracy and favorites per
// song and per player, top songs, and recommendations (songs near a
// player's level that similar players played and liked).
//
// Everything lasts in MongoDB; plays and completions are written through
// the ledger, once per event id. Writes go through the actor; reads go
// straight to the store.
package songs
