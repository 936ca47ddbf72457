// Command load is pianoload with one more target, centrifuge (the
// reference relay of this module, cmd/relay); every flag is pianoload's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	relay "github.com/pianorhythm/server/bench/fanout/centrifuge"
	"github.com/pianorhythm/server/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := loadgen.Main(ctx, "load", os.Args[1:], os.Stdout, map[string]loadgen.DialerFunc{
		"centrifuge": func(url string) (loadgen.Dialer, error) { return relay.Dialer{URL: url}, nil },
	})
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
}
