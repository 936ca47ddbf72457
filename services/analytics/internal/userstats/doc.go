// Package userstats is the UserStatsTracker: per-user totals (notes
// played, chat messages, seconds in rooms and connected, rooms joined,
// friends, logins, songs played and completed, accuracy), the achievements
// their thresholds unlock (with progress, and a UserEvent to the user when
// one unlocks), and leaderboards per metric for the day, the week and all
// time.
//
// Everything lasts in MongoDB, written through the ledger (once per event
// id); Redis holds only the leaderboards' sorted sets, rebuilt from
// MongoDB when missing. Writes go through the actor; reads go straight to
// the stores.
package userstats
