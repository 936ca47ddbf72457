package storetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.uber.org/goleak"

	"github.com/pianorhythm/server/pkg/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(storetest.Wrap(m))
}

func TestPrefixIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := storetest.Prefix(t)
		// t:<PR_TEST_RUN>: when make test set it, then 8 hex digits.
		require.Regexp(t, `^t:([0-9A-Za-z_-]+:)?[0-9a-f]{8}:$`, p)
		require.True(t, strings.HasPrefix(p, storetest.RunPrefix()), "prefix %s outside the run's %s", p, storetest.RunPrefix())
		require.False(t, seen[p], "prefix %s repeated", p)
		seen[p] = true
	}
}

func TestMongoGivesEachTestItsOwnDatabaseAndDropsIt(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("a", func(t *testing.T) {
		db := storetest.Mongo(t)
		first = db.Name()
		_, err := db.Collection("c").InsertOne(ctx, bson.M{"x": 1})
		require.NoError(t, err)
	})
	db := storetest.Mongo(t)
	require.NotEqual(t, first, db.Name())
	names, err := db.Client().ListDatabaseNames(ctx, bson.M{"name": first})
	require.NoError(t, err)
	require.Empty(t, names, "database of the finished subtest is dropped")
}

func TestMiniRedisControlsTime(t *testing.T) {
	ctx := context.Background()
	m, c := storetest.MiniRedis(t)
	require.NoError(t, c.Set(ctx, "k", "v", 10*time.Second).Err())
	m.FastForward(11 * time.Second)
	require.EqualValues(t, 0, c.Exists(ctx, "k").Val())
}
