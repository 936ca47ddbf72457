package store_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pianorhythm/server/pkg/store/storetest"
)

// TestMongoFeatures checks, on the embedded server and on real MongoDB,
// the operations README.md lists as working.
func TestMongoFeatures(t *testing.T) {
	ctx := testCtx(t)
	c := storetest.Mongo(t).Collection("f")
	seed := func(t *testing.T) {
		t.Helper()
		_, err := c.DeleteMany(ctx, bson.D{})
		require.NoError(t, err)
		_, err = c.InsertMany(ctx, []any{
			bson.M{"_id": "a", "n": 1, "g": "x", "tags": bson.A{"p"}},
			bson.M{"_id": "b", "n": 2, "g": "x"},
			bson.M{"_id": "c", "n": 3, "g": "y"},
		})
		require.NoError(t, err)
	}
	n := func(t *testing.T, id string) int32 {
		t.Helper()
		var d struct{ N int32 }
		require.NoError(t, c.FindOne(ctx, bson.M{"_id": id}).Decode(&d))
		return d.N
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"upsert with $setOnInsert", func(t *testing.T) {
			for range 2 {
				_, err := c.UpdateOne(ctx, bson.M{"_id": "u"},
					bson.M{"$inc": bson.M{"n": 1}, "$setOnInsert": bson.M{"g": "z"}}, options.UpdateOne().SetUpsert(true))
				require.NoError(t, err)
			}
			require.EqualValues(t, 2, n(t, "u"))
		}},
		{"findOneAndUpdate upsert returns after", func(t *testing.T) {
			var d struct{ N int32 }
			err := c.FindOneAndUpdate(ctx, bson.M{"_id": "f"}, bson.M{"$inc": bson.M{"n": 5}},
				options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
			require.NoError(t, err)
			require.EqualValues(t, 5, d.N)
		}},
		{"unordered bulk write with upsert", func(t *testing.T) {
			res, err := c.BulkWrite(ctx, []mongo.WriteModel{
				mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": "a"}).SetUpdate(bson.M{"$inc": bson.M{"n": 10}}),
				mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": "new"}).SetUpdate(bson.M{"$inc": bson.M{"n": 1}}).SetUpsert(true),
				mongo.NewDeleteOneModel().SetFilter(bson.M{"_id": "c"}),
			}, options.BulkWrite().SetOrdered(false))
			require.NoError(t, err)
			require.EqualValues(t, 1, res.ModifiedCount)
			require.EqualValues(t, 1, res.UpsertedCount)
			require.EqualValues(t, 1, res.DeletedCount)
			require.EqualValues(t, 11, n(t, "a"))
		}},
		{"find $in sort skip limit projection", func(t *testing.T) {
			cur, err := c.Find(ctx, bson.M{"_id": bson.M{"$in": bson.A{"a", "b", "c"}}},
				options.Find().SetSort(bson.D{{Key: "n", Value: -1}}).SetSkip(1).SetLimit(1).SetProjection(bson.M{"n": 1}))
			require.NoError(t, err)
			var out []bson.M
			require.NoError(t, cur.All(ctx, &out))
			require.Equal(t, []bson.M{{"_id": "b", "n": int32(2)}}, out)
		}},
		{"$push $each", func(t *testing.T) {
			_, err := c.UpdateOne(ctx, bson.M{"_id": "a"}, bson.M{"$push": bson.M{"tags": bson.M{"$each": bson.A{"q", "r"}}}})
			require.NoError(t, err)
			var d struct{ Tags []string }
			require.NoError(t, c.FindOne(ctx, bson.M{"_id": "a"}).Decode(&d))
			require.Equal(t, []string{"p", "q", "r"}, d.Tags)
		}},
		{"aggregate $match $group(one $sum) $sort", func(t *testing.T) {
			cur, err := c.Aggregate(ctx, mongo.Pipeline{
				{{Key: "$match", Value: bson.M{"n": bson.M{"$gte": 2}}}},
				{{Key: "$group", Value: bson.M{"_id": "$g", "total": bson.M{"$sum": "$n"}}}},
				{{Key: "$sort", Value: bson.M{"total": -1}}},
			})
			require.NoError(t, err)
			var out []bson.M
			require.NoError(t, cur.All(ctx, &out))
			require.Equal(t, []bson.M{{"_id": "y", "total": int32(3)}, {"_id": "x", "total": int32(2)}}, out)
		}},
		{"countDocuments", func(t *testing.T) {
			got, err := c.CountDocuments(ctx, bson.M{"g": "x"})
			require.NoError(t, err)
			require.EqualValues(t, 2, got)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed(t)
			tt.run(t)
		})
	}
}

// TestFerretDBLimitations pins the embedded server's gaps listed in
// README.md; when an upgrade closes one, this fails and the README needs
// updating.
func TestFerretDBLimitations(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("real MongoDB has none of these limitations")
	}
	ctx := testCtx(t)
	c := storetest.Mongo(t).Collection("l")
	_, err := c.InsertMany(ctx, []any{bson.M{"g": "x", "n": 1}, bson.M{"g": "x", "n": 2}})
	require.NoError(t, err)

	t.Run("second $group accumulator is zero", func(t *testing.T) {
		cur, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: "$g"}, {Key: "sum", Value: bson.M{"$sum": "$n"}}, {Key: "cnt", Value: bson.M{"$sum": 1}},
		}}}})
		require.NoError(t, err)
		var out []struct{ Sum, Cnt int32 }
		require.NoError(t, cur.All(ctx, &out))
		require.Equal(t, []struct{ Sum, Cnt int32 }{{3, 0}}, out, "real MongoDB gives {3 2}")
	})
	t.Run("$push $slice is ignored", func(t *testing.T) {
		_, err := c.UpdateOne(ctx, bson.M{"g": "x", "n": 1}, bson.M{"$push": bson.M{"h": bson.M{"$each": bson.A{1, 2, 3}, "$slice": -2}}})
		require.NoError(t, err)
		var d struct{ H []int32 }
		require.NoError(t, c.FindOne(ctx, bson.M{"g": "x", "n": 1}).Decode(&d))
		require.Equal(t, []int32{1, 2, 3}, d.H, "real MongoDB keeps [2 3]")
	})
	t.Run("concurrent updates of one document lose increments", func(t *testing.T) {
		c := c.Database().Collection("concurrent")
		_, err := c.InsertOne(ctx, bson.M{"_id": "counter", "n": 0})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 25 {
					_, err := c.UpdateOne(ctx, bson.M{"_id": "counter"}, bson.M{"$inc": bson.M{"n": 1}})
					require.NoError(t, err)
				}
			})
		}
		wg.Wait()
		var d struct{ N int64 }
		require.NoError(t, c.FindOne(ctx, bson.M{"_id": "counter"}).Decode(&d))
		require.Less(t, d.N, int64(200), "real MongoDB counts all 200: $inc is atomic there")
	})
	fails := []struct {
		name string
		run  func() error
	}{
		{"$max accumulator", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$group", Value: bson.M{"_id": "$g", "m": bson.M{"$max": "$n"}}}}})
			return err
		}},
		{"$lookup", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$lookup", Value: bson.M{"from": "l", "localField": "g", "foreignField": "g", "as": "j"}}}})
			return err
		}},
		{"TTL index", func() error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.M{"at": 1}, Options: options.Index().SetExpireAfterSeconds(60)})
			return err
		}},
		{"partial index", func() error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.M{"z": 1},
				Options: options.Index().SetPartialFilterExpression(bson.M{"z": bson.M{"$exists": true}})})
			return err
		}},
		{"distinct with a deadline", func() error { return c.Distinct(ctx, "n", bson.M{}).Err() }},
		{"change stream", func() error {
			cs, err := c.Watch(ctx, mongo.Pipeline{})
			if err == nil {
				_ = cs.Close(ctx)
			}
			return err
		}},
	}
	for _, f := range fails {
		t.Run(f.name, func(t *testing.T) {
			require.Error(t, f.run())
		})
	}
	t.Run("createIndexes with two existing indexes drops the connection", func(t *testing.T) {
		two := []mongo.IndexModel{
			{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetName("a")},
			{Keys: bson.D{{Key: "b", Value: 1}}, Options: options.Index().SetName("b")},
		}
		_, err := c.Indexes().CreateMany(ctx, two)
		require.NoError(t, err, "the first time they are new")
		_, err = c.Indexes().CreateMany(ctx, two)
		require.ErrorContains(t, err, "connection closed", "FerretDB panics in validateIndexesForCreation; store.EnsureIndexes avoids it")
	})
	t.Run("distinct without a deadline works", func(t *testing.T) {
		var vals []int32
		require.NoError(t, c.Distinct(context.Background(), "n", bson.M{}).Decode(&vals))
		require.ElementsMatch(t, []int32{1, 2}, vals)
	})
}
