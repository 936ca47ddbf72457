package store_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

// userIndexes are the shapes the services use: unique, named, compound.
var userIndexes = []mongo.IndexModel{
	{Keys: bson.D{{Key: "username_key", Value: 1}}, Options: options.Index().SetUnique(true).SetName("username_key_unique")},
	{Keys: bson.D{{Key: "discord_key", Value: 1}}, Options: options.Index().SetUnique(true).SetName("discord_key_unique")},
	{Keys: bson.D{{Key: "name_lower", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("name_lower_search")},
	{Keys: bson.D{{Key: "room_id", Value: 1}, {Key: "sent_at", Value: -1}}}, // unnamed: MongoDB's derived name
}

// TestEnsureIndexesOnEveryStart starts the embedded server three times on
// one data directory with data in the collection, as a person restarting
// the program does: every start must find or create every index.
func TestEnsureIndexesOnEveryStart(t *testing.T) {
	ctx := testCtx(t)
	cfg := store.MongoConfig{DataDir: filepath.Join(t.TempDir(), "data"), Database: "restart"}
	for start := range 3 {
		m, err := store.OpenMongo(ctx, cfg)
		require.NoError(t, err)
		users := m.DB.Collection("users")
		require.NoError(t, store.EnsureIndexes(ctx, users, userIndexes...), "start %d", start+1)
		_, err = users.InsertOne(ctx, bson.D{
			{Key: "username_key", Value: fmt.Sprintf("ann%d", start)},
			{Key: "discord_key", Value: fmt.Sprintf("d%d", start)},
		})
		require.NoError(t, err)
		_, err = users.InsertOne(ctx, bson.D{{Key: "username_key", Value: "ann0"}, {Key: "discord_key", Value: "other"}})
		require.True(t, mongo.IsDuplicateKeyError(err), "the unique index holds after start %d: %v", start+1, err)
		require.NoError(t, m.Close(ctx))
	}
}

func TestEnsureIndexesNamesAndAdds(t *testing.T) {
	ctx := testCtx(t)
	c := storetest.Mongo(t).Collection("ix")
	require.NoError(t, store.EnsureIndexes(ctx, c, userIndexes[:2]...))
	// A later version adds indexes beside those that exist: only the new ones are created.
	require.NoError(t, store.EnsureIndexes(ctx, c, userIndexes...))
	specs, err := c.Indexes().ListSpecifications(ctx)
	require.NoError(t, err)
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	require.ElementsMatch(t, []string{"_id_", "username_key_unique", "discord_key_unique", "name_lower_search", "room_id_1_sent_at_-1"}, names)

	err = store.EnsureIndexes(ctx, c, mongo.IndexModel{Keys: bson.M{"a": 1}})
	require.ErrorContains(t, err, "bson.D")
}
