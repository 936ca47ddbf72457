package loadgen

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
)

// DialerFunc makes the Dialer of a relay at a URL.
type DialerFunc func(url string) (Dialer, error)

// Main is the command line of a load generator (cmd/pianoload, and the
// Centrifuge reference's): flags, one run, a report on stdout and,
// with -out, the JSON result. dialers maps the -target names to their
// Dialer; "ws" and "ws-json" (PianoRhythm's /ws) are always there.
func Main(ctx context.Context, name string, args []string, stdout io.Writer, dialers map[string]DialerFunc) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	target := fs.String("target", "ws", "relay protocol: ws (PianoRhythm /ws, proto), ws-json, or one the program adds")
	u := fs.String("url", "ws://127.0.0.1:8080/ws", "relay URL (loopback only)")
	var cfg Config
	fs.IntVar(&cfg.Clients, "clients", 20, "connections")
	fs.IntVar(&cfg.Rooms, "rooms", 1, "rooms the clients are spread over")
	fs.StringVar(&cfg.RoomPrefix, "room-prefix", "bench-", "room names: <prefix><n>")
	fs.IntVar(&cfg.Players, "players", 0, "players per room (0: every member)")
	fs.Float64Var(&cfg.Rate, "rate", 5, "batches per second per player (0: connect, join, measure, leave)")
	fs.IntVar(&cfg.Events, "events", 2, "note events per batch")
	fs.DurationVar(&cfg.Duration, "duration", 10e9, "playing time")
	fs.DurationVar(&cfg.Drain, "drain", 1e9, "wait for deliveries after the last batch")
	fs.IntVar(&cfg.DialConcurrency, "dial-concurrency", 128, "clients connecting at once")
	fs.IntVar(&cfg.ServerPID, "pid", 0, "the relay's process id, for its CPU and RSS (/proc)")
	fs.DurationVar(&cfg.Settle, "settle", 0, "with -pid: after the clients leave, wait up to this long for the server to go quiet (under 50 ms of CPU in a second) and report its CPU from the first dial")
	sources := fs.Int("sources", 1, "connect from this many loopback addresses, 127.0.0.1 up (where a per-IP limit would interfere)")
	create := fs.Bool("create", true, "create the rooms if they do not exist")
	out := fs.String("out", "", "write the JSON result to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pu, err := url.Parse(*u)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if h := pu.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return fmt.Errorf("url %s: loopback only", *u)
	}
	if *sources > 1 {
		if *sources > 250 {
			return fmt.Errorf("sources %d: at most 250", *sources)
		}
		for i := range *sources {
			cfg.Sources = append(cfg.Sources, fmt.Sprintf("127.0.0.%d", i+1))
		}
	}
	switch *target {
	case "ws":
		cfg.Dialer = &WSDialer{URL: *u, Create: *create}
	case "ws-json":
		cfg.Dialer = &WSDialer{URL: *u, JSON: true, Create: *create}
	default:
		mk, ok := dialers[*target]
		if !ok {
			return fmt.Errorf("target %q: unknown", *target)
		}
		if cfg.Dialer, err = mk(*u); err != nil {
			return err
		}
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	Report(stdout, *target, res)
	if *out != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	return nil
}

// Report prints res for people.
func Report(w io.Writer, target string, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(k string, f string, v ...any) { fmt.Fprintf(tw, "%s\t"+f+"\n", append([]any{k}, v...)...) }
	p("target", "%s", target)
	p("connections", "%d of %d in %d rooms (%d errors, %d joins retried%s)", r.Connected, r.Clients, r.Rooms, r.ConnectErrors, r.JoinRetries, firstErr(r))
	p("connect and join", "%.2f s wall, server CPU %.2f s (%.2f ms per connection)", r.SetupSeconds, r.ServerSetupCPUSeconds, r.ServerSetupCPUPerConnMs)
	p("server RSS", "%.1f MiB before, %.1f MiB joined, %.1f KiB per connection", r.ServerRSSBeforeMiB, r.ServerRSSAfterSetupMiB, r.ServerRSSPerConnKiB)
	if r.Rate > 0 {
		p("batches", "%d sent (%d send errors), %v/s per player, %d events", r.Batches, r.SendErrors, r.Rate, r.Events)
		p("deliveries", "%d of %d (%d lost), %.0f/s", r.Deliveries, r.Expected, r.Lost, r.DeliveriesPerSecond)
		p("latency ms", "p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f", r.P50Ms, r.P99Ms, r.P999Ms, r.MaxMs)
		p("server CPU", "%.2f s playing (%.2f cores), %.4f s per 1,000 deliveries (%.4f net of the idle %.3f cores)", r.ServerPlayCPUSeconds, r.ServerCores, r.ServerCPUPer1000Deliv, r.ServerNetPer1000Deliv, r.ServerIdleCores)
		bound := ""
		if r.GeneratorBound {
			bound = "  GENERATOR-BOUND: this run measures the generator, not the relay"
		}
		p("generator CPU", "%.2f s (%.2f cores)%s", r.GeneratorCPUSeconds, r.GeneratorCores, bound)
	}
	if r.SettleSeconds > 0 {
		quiet := ""
		if !r.Quiet {
			quiet = "  NOT QUIET: -settle ran out"
		}
		p("to quiet", "server CPU %.2f s from the first dial until quiet, %.1f s after the clients left (%.2f ms per connection)%s",
			r.ServerCPUToQuietSeconds, r.SettleSeconds, r.ServerCPUToQuietPerConnMs, quiet)
	}
	_ = tw.Flush()
}

func firstErr(r Result) string {
	if r.FirstConnectError == "" {
		return ""
	}
	return "; first: " + strings.TrimSpace(r.FirstConnectError)
}
