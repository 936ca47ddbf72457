package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/pianorhythm/server/pkg/store"
)

// shared is the one MongoDB client of the test process: starting FerretDB
// per test would cost a server start each, and databases isolate tests
// anyway.
var shared struct {
	once sync.Once
	m    *store.Mongo
	dir  string // temporary data directory of the embedded server
	err  error
}

// Mongo returns a database of this test's own, dropped by t.Cleanup.
// With MONGODB_URI set it lives on that server; otherwise on one embedded
// FerretDB per test process, started on first use with its files in a
// temporary directory. The process-wide server and client stay up until
// Wrap's Run returns (see Wrap), or until the process exits.
func Mongo(t testing.TB) *mongo.Database {
	t.Helper()
	shared.once.Do(func() { shared.m, shared.err = openShared() })
	if shared.err != nil {
		t.Fatalf("storetest: %v", shared.err)
	}
	// MongoDB limits database names to 63 bytes; this is 21.
	db := shared.m.Client.Database("t_" + randomHex(t, 8))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("storetest: drop database %s: %v", db.Name(), err)
		}
	})
	return db
}

func openShared() (*store.Mongo, error) {
	ctx := context.Background()
	uri := os.Getenv("MONGODB_URI")
	if uri != "" {
		return store.OpenMongo(ctx, store.MongoConfig{URI: uri})
	}
	// Not t.TempDir: the server outlives the test that started it.
	dir, err := os.MkdirTemp("", "storetest-mongo-")
	if err != nil {
		return nil, fmt.Errorf("temp dir for embedded mongodb: %w", err)
	}
	shared.dir = dir
	return store.OpenMongo(ctx, store.MongoConfig{
		DataDir: dir,
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
}

// TestingM is what goleak.VerifyTestMain accepts; *testing.M satisfies it.
type TestingM interface{ Run() int }

// Wrap returns m with a Run that, after the tests, stops the process-wide
// MongoDB client and embedded server that Mongo started (if it did) and
// removes its files. Use it as goleak.VerifyTestMain(storetest.Wrap(m)) so
// goleak does not report them, or as os.Exit(storetest.Wrap(m).Run()).
func Wrap(m TestingM) TestingM { return wrapped{m} }

type wrapped struct{ m TestingM }

func (w wrapped) Run() int {
	code := w.m.Run()
	if err := closeShared(); err != nil {
		fmt.Fprintf(os.Stderr, "storetest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// closeShared stops what Mongo started; tests have all finished, so no
// caller can still hold the client.
func closeShared() error {
	if shared.m == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := shared.m.Close(ctx)
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	return err
}
