// Command pianoload is a load generator for PianoRhythm's note fan-out:
// N WebSocket clients in R rooms play note batches at a rate and measure
// delivery latency, losses, connect-and-join time and, given the server's
// pid, its CPU and memory per delivery and per connection (package
// internal/loadgen). Loopback only. Example, one room of 20 where one
// plays 50 batches/s:
//
//	pianoload -clients 20 -rooms 1 -players 1 -rate 50 -duration 10s -pid $(pgrep -n pianorhythm)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pianorhythm/server/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := loadgen.Main(ctx, "pianoload", os.Args[1:], os.Stdout, nil)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "pianoload: %v\n", err)
		os.Exit(1)
	}
}
