// Command relay runs the Centrifuge reference relay of bench/fanout on
// ws://<addr>/connection/websocket.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	relay "github.com/pianorhythm/server/bench/fanout/centrifuge"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18491", "listen address")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	node, h, err := relay.NewRelay()
	if err != nil {
		return err
	}
	if err := node.Run(); err != nil {
		return fmt.Errorf("run node: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Println("centrifuge relay on ws://" + ln.Addr().String() + "/connection/websocket")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return node.Shutdown(sctx)
}
