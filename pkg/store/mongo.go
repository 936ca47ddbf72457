package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.opentelemetry.io/otel/trace"
)

// MongoConfig configures OpenMongo.
type MongoConfig struct {
	// URI is a mongodb:// URI of a real server.
	// Zero value means an embedded FerretDB (SQLite files under DataDir)
	// listening on a free loopback port.
	URI string
	// Database is the database that Mongo.DB points at.
	// Zero value means "pianorhythm".
	Database string
	// DataDir is where the embedded server keeps its SQLite files; it is
	// created if missing. Ignored for a real server. Zero value means "./data".
	DataDir string
	// Logger receives the embedded server's warnings and errors (its info
	// logs are per connection and too noisy to keep).
	// Zero value means slog.Default().
	Logger *slog.Logger
	// TracerProvider records one span per command, only inside a trace the
	// caller already started. Zero value means the otel global provider
	// (set by telemetry.Install).
	TracerProvider trace.TracerProvider
}

func (c MongoConfig) withDefaults() MongoConfig {
	if c.Database == "" {
		c.Database = "pianorhythm"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a configuration that OpenMongo cannot use.
func (c MongoConfig) Validate() error {
	if c.Database == "" {
		return errors.New("mongo database name is required")
	}
	return nil
}

// Mongo is an open MongoDB client, real or embedded.
// It is safe for concurrent use; Close it once when done.
type Mongo struct {
	// Client is the driver client; it is disconnected by Close.
	Client *mongo.Client
	// DB is the configured database.
	DB *mongo.Database
	// Embedded is true when the server is an in-process FerretDB.
	Embedded bool
	// URI is the server's connection string (for an embedded server, its
	// loopback address).
	URI string
	// DataDir is the embedded server's directory of SQLite files (absolute);
	// empty for a real server.
	DataDir string

	cancel context.CancelFunc // stops the embedded server
	done   chan struct{}      // closed when the embedded server has stopped
	keeper chan struct{}      // closed when its id index keeper has stopped
	once   sync.Once
}

// ferretMu serialises ferretdb.New, which writes a package-level variable
// (the reported build flavour) and so races when two servers start at once.
var ferretMu sync.Mutex

// OpenMongo connects to the MongoDB server at cfg.URI, or starts an embedded
// FerretDB when cfg.URI is empty, and checks the connection with a ping.
// For an embedded server it owns the server's goroutine; Close stops it.
func OpenMongo(ctx context.Context, cfg MongoConfig) (*Mongo, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.URI == "" {
		return openEmbeddedMongo(ctx, cfg)
	}
	return connectMongo(ctx, cfg, cfg.URI, "")
}

func connectMongo(ctx context.Context, cfg MongoConfig, uri, what string) (*Mongo, error) {
	if what == "" {
		what = "mongodb at " + redactURI(uri)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetMonitor(mongoMonitor(cfg.TracerProvider)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &Mongo{Client: client, DB: client.Database(cfg.Database), URI: uri}, nil
}

func openEmbeddedMongo(ctx context.Context, cfg MongoConfig) (*Mongo, error) {
	dir, err := prepareDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	ferretMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:   slog.New(minLevel{h: cfg.Logger.Handler(), min: slog.LevelWarn}),
		Handler:  "sqlite",
		// A commit survives the process, not a power loss: MongoDB's
		// default promise (README.md).
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(normal)",
	})
	ferretMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("start embedded mongodb in %s: %w (if the directory was written by another version or is damaged, move it away to start with an empty one)", dir, flatten(err))
	}
	// The server must outlive ctx (which may only cover start-up), so it
	// runs under its own context that Close cancels.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(runCtx) // always nil; it returns once the server has stopped
	}()
	uri := f.MongoDBURI()
	m, err := connectMongo(ctx, cfg, uri, "embedded mongodb in "+dir)
	if err != nil {
		cancel()
		<-done
		return nil, err
	}
	if err := ensureIDIndexes(ctx, dir); err != nil {
		cfg.Logger.Warn("embedded mongodb: add _id path indexes", "err", err)
	}
	keeper := make(chan struct{})
	go func() {
		defer close(keeper)
		keepIDIndexes(runCtx, dir, cfg.Logger)
	}()
	m.Embedded = true
	m.DataDir = dir
	m.cancel = cancel
	m.done = done
	m.keeper = keeper
	return m, nil
}

// flatten drops FerretDB's stack of source locations ("[sqlite.go:36
// registry.init.2.func1] ...") from an error's text, keeping its message,
// so a failed start reads as one plain line.
func flatten(err error) error {
	msg := err.Error()
	for {
		i := strings.Index(msg, "[")
		j := strings.Index(msg, "] ")
		if i < 0 || j < i || !strings.Contains(msg[i:j], ".go:") {
			break
		}
		msg = msg[:i] + msg[j+2:]
	}
	return errors.New(strings.TrimSpace(msg))
}

// prepareDataDir creates dir if needed and checks that it is writable, so
// a bad directory is reported by name instead of as an SQLite error later.
func prepareDataDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("mongo data directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("create mongo data directory %q: %w", abs, err)
	}
	f, err := os.CreateTemp(abs, ".writable-*")
	if err != nil {
		return "", fmt.Errorf("mongo data directory %q is not writable: %w", abs, err)
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return abs, nil
}

// Close disconnects the client and, for an embedded server, stops it and
// waits until it has stopped. ctx bounds the disconnect. Calling it again is
// a no-op.
func (m *Mongo) Close(ctx context.Context) error {
	var err error
	m.once.Do(func() {
		// Disconnect first: FerretDB gives open connections a few seconds
		// to go away before it stops, which would delay shutdown.
		err = m.Client.Disconnect(ctx)
		if m.cancel != nil {
			m.cancel()
			<-m.keeper
			<-m.done
		}
	})
	if err != nil {
		return fmt.Errorf("disconnect mongodb: %w", err)
	}
	return nil
}
