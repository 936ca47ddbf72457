package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pianorhythm/server/pkg/store"
	"github.com/pianorhythm/server/pkg/store/storetest"
)

func TestMongoUniqueIndexRejectsDuplicate(t *testing.T) {
	ctx := testCtx(t)
	users := storetest.Mongo(t).Collection("users")

	_, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "username", Value: 1}},
		Options: options.Index().SetUnique(true),
	})
	require.NoError(t, err)
	_, err = users.InsertOne(ctx, bson.D{{Key: "username", Value: "ada"}})
	require.NoError(t, err)

	_, err = users.InsertOne(ctx, bson.D{{Key: "username", Value: "ada"}})
	require.Error(t, err)
	require.True(t, mongo.IsDuplicateKeyError(err), "want duplicate key error, got %v", err)
}

func TestOpenMongoEmbeddedKeepsDataAcrossRestart(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet: OpenMongo creates it
	cfg := store.MongoConfig{DataDir: dir, Database: "restart"}

	m, err := store.OpenMongo(ctx, cfg)
	require.NoError(t, err)
	require.True(t, m.Embedded)
	_, err = m.DB.Collection("rooms").InsertOne(ctx, bson.D{{Key: "_id", Value: "lobby"}, {Key: "members", Value: 3}})
	require.NoError(t, err)
	require.NoError(t, m.Close(ctx))

	m, err = store.OpenMongo(ctx, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Close(ctx)) }()
	var got struct {
		ID      string `bson:"_id"`
		Members int    `bson:"members"`
	}
	require.NoError(t, m.DB.Collection("rooms").FindOne(ctx, bson.D{{Key: "_id", Value: "lobby"}}).Decode(&got))
	require.Equal(t, 3, got.Members)
}

func TestOpenMongoBadDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	readOnly := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.Mkdir(readOnly, 0o500))

	tests := []struct {
		name    string
		dir     string
		want    string
		skipped string
	}{
		{name: "under a file", dir: filepath.Join(file, "data"), want: filepath.Join(file, "data")},
		{name: "read-only", dir: readOnly, want: "is not writable", skipped: skipIfRoot()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipped != "" {
				t.Skip(tt.skipped)
			}
			m, err := store.OpenMongo(testCtx(t), store.MongoConfig{DataDir: tt.dir})
			if err == nil {
				_ = m.Close(testCtx(t))
				t.Fatal("OpenMongo succeeded")
			}
			t.Logf("error: %v", err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestOpenMongoUnreachable(t *testing.T) {
	uri := "mongodb://127.0.0.1:" + itoa(freePort(t)) + "/?serverSelectionTimeoutMS=500"
	m, err := store.OpenMongo(testCtx(t), store.MongoConfig{URI: uri})
	if err == nil {
		_ = m.Close(testCtx(t))
		t.Fatal("OpenMongo succeeded")
	}
	t.Logf("error: %v", err)
	require.Contains(t, err.Error(), "mongodb at mongodb://127.0.0.1:")
}

func skipIfRoot() string {
	if os.Geteuid() == 0 {
		return "root can write to a read-only directory"
	}
	return ""
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestOpenMongoDamagedDataDir: a data directory that FerretDB cannot read
// (another version's files, or damaged ones) fails the start with one line
// that says what to do.
func TestOpenMongoDamagedDataDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pianorhythm.sqlite"), []byte("not a database"), 0o644))
	_, err := store.OpenMongo(testCtx(t), store.MongoConfig{DataDir: dir})
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, dir)
	require.Contains(t, msg, "move it away")
	require.NotContains(t, msg, "\n")
	require.NotContains(t, msg, ".go:", "no source locations in the message")
}

// TestOpenMongoEmbeddedKeepsAcknowledgedWritesAcrossKill9: a process that
// dies by kill -9 right after its writes were acknowledged loses none of
// them (SQLite's WAL with synchronous=NORMAL: the commit is in the log,
// only a power loss could take it back).
func TestOpenMongoEmbeddedKeepsAcknowledgedWritesAcrossKill9(t *testing.T) {
	const writes = 100
	if dir := os.Getenv("PR_STORE_KILL9_DIR"); dir != "" {
		killedWriter(t, dir, writes)
		return
	}
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenMongoEmbeddedKeepsAcknowledgedWritesAcrossKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PR_STORE_KILL9_DIR="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(out)
	acked := false
	for lines.Scan() {
		if lines.Text() == "acknowledged" {
			acked = true
			break
		}
	}
	require.True(t, acked, "the writer never reported its writes acknowledged")
	require.NoError(t, cmd.Process.Kill()) // SIGKILL
	_ = cmd.Wait()

	ctx := testCtx(t)
	m, err := store.OpenMongo(ctx, store.MongoConfig{DataDir: dir, Database: "kill9"})
	require.NoError(t, err)
	defer func() { require.NoError(t, m.Close(ctx)) }()
	n, err := m.DB.Collection("chat").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	require.EqualValues(t, writes, n, "chat lines acknowledged before the kill")
	var counter struct {
		N int `bson:"n"`
	}
	require.NoError(t, m.DB.Collection("counters").FindOne(ctx, bson.D{{Key: "_id", Value: "lines"}}).Decode(&counter))
	require.Equal(t, writes, counter.N, "updates acknowledged before the kill")
}

// killedWriter is the child of the test above: it writes, says so, and
// waits to be killed.
func killedWriter(t *testing.T, dir string, writes int) {
	ctx := context.Background()
	m, err := store.OpenMongo(ctx, store.MongoConfig{DataDir: dir, Database: "kill9"})
	require.NoError(t, err)
	for i := range writes {
		_, err := m.DB.Collection("chat").InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "text", Value: "hello"}})
		require.NoError(t, err)
		_, err = m.DB.Collection("counters").UpdateOne(ctx, bson.D{{Key: "_id", Value: "lines"}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
		require.NoError(t, err)
	}
	fmt.Println("acknowledged")
	time.Sleep(time.Minute) // killed long before
	t.Fatal("not killed")
}
