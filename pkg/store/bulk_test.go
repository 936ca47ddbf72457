package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// TestBulkWriteOfManyUpdates: 250 updates in one call (an analytics batch
// of many users) all apply, and the server still answers others at once.
// Sent as one command, FerretDB 1.24 deadlocks on it (see
// MaxWritesPerCommand); the deadline turns that into this test's failure.
func TestBulkWriteOfManyUpdates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := storetest.Mongo(t).Collection("bulk")
	const n = 250
	docs := make([]any, n)
	var inc []mongo.WriteModel
	for i := range n {
		id := fmt.Sprintf("u%03d", i)
		docs[i] = bson.D{{Key: "_id", Value: id}, {Key: "n", Value: 0}}
		inc = append(inc, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}))
	}
	_, err := c.InsertMany(ctx, docs)
	require.NoError(t, err)

	res, err := store.BulkWrite(ctx, c, inc, false)
	require.NoError(t, err)
	require.EqualValues(t, n, res.ModifiedCount)
	sum, err := c.CountDocuments(ctx, bson.D{{Key: "n", Value: 1}})
	require.NoError(t, err)
	require.EqualValues(t, n, sum, "every update applied once")
}

// TestBulkWriteUnorderedErrorsIndexTheModels: a duplicate key in a later
// command is reported at its index in the caller's models, and the other
// models are written.
func TestBulkWriteUnorderedErrorsIndexTheModels(t *testing.T) {
	ctx := testCtx(t)
	c := storetest.Mongo(t).Collection("bulkdup")
	_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "taken"}})
	require.NoError(t, err)
	var models []mongo.WriteModel
	for i := range store.MaxWritesPerCommand + 10 {
		id := fmt.Sprintf("d%03d", i)
		if i == store.MaxWritesPerCommand+3 {
			id = "taken"
		}
		models = append(models, mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: id}}))
	}
	res, err := store.BulkWrite(ctx, c, models, false)
	var bwe mongo.BulkWriteException
	require.ErrorAs(t, err, &bwe)
	require.Len(t, bwe.WriteErrors, 1)
	require.Equal(t, store.MaxWritesPerCommand+3, bwe.WriteErrors[0].Index)
	require.True(t, mongo.IsDuplicateKeyError(bwe.WriteErrors[0]))
	require.EqualValues(t, store.MaxWritesPerCommand+9, res.InsertedCount)
}
