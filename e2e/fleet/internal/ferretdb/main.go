// Command ferretdb serves the embedded FerretDB of pkg/store as a process of
// its own, so that the fleet tests run one MongoDB-wire server that every
// service program connects to over the network, as they would to MongoDB.
// It prints the server's mongodb:// URI as the first line of its standard
// output and serves until SIGTERM (or SIGKILL).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/pianorhythm/server/pkg/store"
)

func main() {
	dataDir := flag.String("data-dir", "./data", "directory of the SQLite files")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := store.OpenMongo(ctx, store.MongoConfig{DataDir: *dataDir, Logger: log})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(m.URI)
	// SIGUSR1 writes every goroutine's stack to stderr (the harness's log
	// of this process), to see what the server waits on in a stalled test.
	dump := make(chan os.Signal, 1)
	signal.Notify(dump, syscall.SIGUSR1)
	go func() {
		for range dump {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		}
	}()
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Close(cctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
