package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MaxWritesPerCommand is how many write models BulkWrite sends in one
// command.
//
// Why: FerretDB 1.24's update command keeps each statement's query open
// until the whole command ends, one SQLite connection each, out of a pool
// of 100. A command with 100 or more updates then waits for a connection
// it holds itself: the server deadlocks, and every other client of it
// waits for a connection too (seen as a whole fleet's MongoDB calls timing
// out after an analytics batch). Commands well under the pool's size leave
// connections for everyone else; a real MongoDB takes them as they come.
const MaxWritesPerCommand = 40

// BulkWrite is c.BulkWrite in commands of at most MaxWritesPerCommand
// models. Ordered, it stops at the first failing command, as one ordered
// command would; unordered, it runs every command and returns one
// mongo.BulkWriteException whose WriteErrors index into models. The result
// sums the commands'.
func BulkWrite(ctx context.Context, c *mongo.Collection, models []mongo.WriteModel, ordered bool) (*mongo.BulkWriteResult, error) {
	total := &mongo.BulkWriteResult{}
	var failed *mongo.BulkWriteException
	for start := 0; start < len(models); start += MaxWritesPerCommand {
		end := min(start+MaxWritesPerCommand, len(models))
		res, err := c.BulkWrite(ctx, models[start:end], options.BulkWrite().SetOrdered(ordered))
		if res != nil {
			total.InsertedCount += res.InsertedCount
			total.MatchedCount += res.MatchedCount
			total.ModifiedCount += res.ModifiedCount
			total.DeletedCount += res.DeletedCount
			total.UpsertedCount += res.UpsertedCount
		}
		if err == nil {
			continue
		}
		var bwe mongo.BulkWriteException
		if ordered || !errors.As(err, &bwe) {
			return total, err
		}
		if failed == nil {
			failed = &mongo.BulkWriteException{}
		}
		for _, we := range bwe.WriteErrors {
			we.Index += start
			failed.WriteErrors = append(failed.WriteErrors, we)
		}
		if bwe.WriteConcernError != nil {
			failed.WriteConcernError = bwe.WriteConcernError
		}
	}
	if failed != nil {
		return total, *failed
	}
	return total, nil
}
