// Package userstats is the UserStatsTracker: per-user totals (notes
// played, chat messages, seconds in rooms, rooms joined, friends) in Redis
// hashes, the achievements their thresholds unlock, and leaderboards in
// sorted sets. Writes go through the actor; reads go straight to Redis.
package userstats
