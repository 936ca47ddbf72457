package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/pianorhythm/server/pkg/store"
)

// lookupPlan is SQLite's plan for the statement FerretDB 1.24 runs to
// find a document of collection coll by _id (backends/sqlite Query).
func lookupPlan(t testing.TB, m *store.Mongo, database, coll string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(m.DataDir, database+".sqlite")+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var table string
	require.NoError(t, db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table))
	rows, err := db.Query(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), `"x"`)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	return strings.Join(plan, "; ")
}

// A lookup by _id on the embedded server is answered from an index, in
// collections that existed at start and in those made while it runs;
// without it every update of one guest read every guest.
func TestEmbeddedLookupsByIDUseAnIndex(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Skip("a real MongoDB has its _id index")
	}
	ctx := testCtx(t)
	cfg := store.MongoConfig{DataDir: t.TempDir(), Database: "ids"}
	m, err := store.OpenMongo(ctx, cfg)
	require.NoError(t, err)
	guests := m.DB.Collection("guests")
	_, err = guests.InsertMany(ctx, []any{bson.M{"_id": "g-1", "n": 1}, bson.M{"_id": "g-2", "n": 2}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(lookupPlan(t, m, "ids", "guests"), "USING INDEX") },
		10*time.Second, 50*time.Millisecond, "a collection made while the server runs gets its index within a few seconds")
	require.NoError(t, m.Close(ctx))

	m, err = store.OpenMongo(ctx, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Close(context.WithoutCancel(ctx))) }()
	require.Contains(t, lookupPlan(t, m, "ids", "guests"), "USING INDEX", "kept across a restart")

	// What the index serves still finds, changes and deletes the right document.
	_, err = m.DB.Collection("guests").UpdateOne(ctx, bson.M{"_id": "g-2"}, bson.M{"$inc": bson.M{"n": 10}})
	require.NoError(t, err)
	var got struct{ N int }
	require.NoError(t, m.DB.Collection("guests").FindOne(ctx, bson.M{"_id": "g-2"}).Decode(&got))
	require.Equal(t, 12, got.N)
	_, err = m.DB.Collection("guests").DeleteOne(ctx, bson.M{"_id": "g-1"})
	require.NoError(t, err)
	n, err := m.DB.Collection("guests").CountDocuments(ctx, bson.M{})
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	// A dropped collection or database leaves the keeper working.
	require.NoError(t, m.DB.Collection("guests").Drop(ctx))
	require.NoError(t, m.DB.Drop(ctx))
	other := m.Client.Database("ids2").Collection("rooms")
	_, err = other.InsertOne(ctx, bson.M{"_id": "lobby"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(lookupPlan(t, m, "ids2", "rooms"), "USING INDEX") },
		10*time.Second, 50*time.Millisecond)
}

// BenchmarkEmbeddedUpdateByID: one update by _id in a collection of
// 10,000 documents, as the analytics ledger and the state archive send
// them (go test -run '^$' -bench EmbeddedUpdateByID ./store/).
func BenchmarkEmbeddedUpdateByID(b *testing.B) {
	ctx := context.Background()
	m, err := store.OpenMongo(ctx, store.MongoConfig{DataDir: b.TempDir(), Database: "bench"})
	require.NoError(b, err)
	defer m.Close(ctx)
	c := m.DB.Collection("users")
	docs := make([]any, 10_000)
	for i := range docs {
		docs[i] = bson.M{"_id": fmt.Sprintf("u-%05d", i), "n": 0}
	}
	_, err = c.InsertMany(ctx, docs)
	require.NoError(b, err)
	require.Eventually(b, func() bool { return strings.Contains(lookupPlan(b, m, "bench", "users"), "USING INDEX") },
		10*time.Second, 50*time.Millisecond)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := c.UpdateOne(ctx, bson.M{"_id": fmt.Sprintf("u-%05d", i%10_000)}, bson.M{"$inc": bson.M{"n": 1}}); err != nil {
			b.Fatal(err)
		}
	}
}
