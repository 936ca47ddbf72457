// Command bench runs bench/fanout: our all-in-one, the plain relay
// (bench/fanout/naive) and the Centrifuge reference (cmd/relay) driven by
// the same generator (internal/loadgen) with the same workloads, back to
// back, and writes the figures to bench/fanout/results-<label>.json and
// bench/fanout/RESULTS.md (every label's figures, with ratios). `make
// bench-fanout` runs it; see bench/fanout/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	relay "github.com/pianorhythm/server/bench/fanout/centrifuge"
	"github.com/pianorhythm/server/internal/loadgen"
)

// benchAdmin is the account the bench registers on our server to create
// the large room (staff only).
const benchAdmin = "benchadmin"

// Run is one generator run against one relay.
type Run struct {
	Target string
	Result loadgen.Result
}

// Results are one label's figures (BEFORE, AFTER).
type Results struct {
	Label    string
	Date     string
	Machine  string
	Commit   string
	Duration string
	// Scenario name -> runs, in the order made.
	Scenarios map[string][]Run
	// Capacity per target: the highest rate held (batches/s per member
	// in the 50x20 shape) and its deliveries/s; 0 when none held.
	CapacityRate  map[string]float64
	CapacityDeliv map[string]float64
	// ProfileTop is `go tool pprof -top` of our server under the profile
	// load.
	ProfileTop string
	Notes      []string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	root := flag.String("root", "../../..", "repository root")
	label := flag.String("label", "run", "name of this run's results (BEFORE, AFTER)")
	dur := flag.Duration("duration", 10*time.Second, "playing time of each run")
	redisURL := flag.String("redis-url", os.Getenv("REDIS_URL"), "Redis of our server (empty: its embedded one)")
	rates := flag.String("rates", "0.5,1,1.5,2,3,4", "capacity steps: batches/s per member, 50 rooms x 20")
	rounds := flag.Int("rounds", 2, "rounds of the one-room scenario (ours, naive, centrifuge each)")
	only := flag.String("only", "", "comma-separated scenarios to run (arrival,oneroom,capacity,profile,large,arrival10k); empty: all but arrival10k")
	freshOurs := flag.Bool("fresh", true, "restart our server before each of its runs")
	commitFlag := flag.String("commit", "", "commit named in the results (empty: root's git HEAD)")
	outDir := flag.String("out", "", "directory of the results (empty: <root>/bench/fanout)")
	flag.Parse()
	want := func(s string) bool {
		if *only == "" {
			return s != "arrival10k"
		}
		return strings.Contains(","+*only+",", ","+s+",")
	}
	work, err := os.MkdirTemp("", "bench-fanout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "bin")
	fmt.Fprintln(os.Stderr, "building into", bin)
	if err := build(*root, bin); err != nil {
		return err
	}
	res := &Results{Label: *label, Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Commit: *commitFlag,
		Duration: dur.String(), Scenarios: map[string][]Run{}, CapacityRate: map[string]float64{}, CapacityDeliv: map[string]float64{}}
	if res.Commit == "" {
		res.Commit = commit(*root)
	}
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, name := range []string{"ours", "naive", "centrifuge"} {
		s, err := start(ctx, name, bin, work, *redisURL, nil)
		if err != nil {
			return err
		}
		servers[name] = s
	}
	runNo := 0
	// Our server gets a fresh process for every run: a run's thousand
	// guests leave work behind (archive writes, analytics) that would
	// weigh on the next (bench/fanout/README.md); the references start
	// fresh once, they keep nothing.
	restart := func(s *server) (*server, error) {
		s.stop()
		n, err := start(ctx, s.name, bin, work, *redisURL, nil)
		if err != nil {
			return nil, err
		}
		servers[s.name] = n
		return n, nil
	}
	// prepare, if set, completes a run's configuration once its server is
	// up (ours: a token of that process).
	var prepare func(s *server, cfg *loadgen.Config) error
	one := func(scenario string, s *server, cfg loadgen.Config) loadgen.Result {
		runNo++
		if s.name == "ours" && *freshOurs && runNo > 1 {
			var err error
			if s, err = restart(s); err != nil {
				res.Notes = append(res.Notes, scenario+": restart ours: "+err.Error())
				return loadgen.Result{}
			}
		}
		waitIdle(s.pid())
		if prepare != nil {
			if err := prepare(s, &cfg); err != nil {
				res.Notes = append(res.Notes, scenario+" ("+s.name+"): "+err.Error())
				return loadgen.Result{}
			}
		}
		cfg.ServerPID = s.pid()
		cfg.RoomPrefix = fmt.Sprintf("r%d-", runNo)
		cfg.Sources = sources(8)
		switch s.name {
		case "centrifuge":
			cfg.Dialer = relay.Dialer{URL: s.url}
		default:
			cfg.Dialer = &loadgen.WSDialer{URL: s.url, Create: true}
		}
		if cfg.FirstDialer == nil {
			cfg.FirstDialer = cfg.Dialer
		}
		r, err := loadgen.Run(ctx, cfg)
		if err != nil {
			r.FirstConnectError = err.Error()
		}
		res.Scenarios[scenario] = append(res.Scenarios[scenario], Run{Target: s.name, Result: r})
		fmt.Fprintf(os.Stderr, "== %s: %s\n", scenario, s.name)
		loadgen.Report(os.Stderr, s.name, r)
		return r
	}
	order := []string{"ours", "naive", "centrifuge"}
	if want("oneroom") {
		for range *rounds {
			for _, n := range order {
				one("oneroom", servers[n], loadgen.Config{Clients: 20, Rooms: 1, Players: 1, Rate: 50, Duration: *dur})
			}
		}
	}
	if want("capacity") {
		for _, n := range order {
			held := 0.0
			for _, f := range strings.Split(*rates, ",") {
				var rate float64
				if _, err := fmt.Sscan(f, &rate); err != nil {
					return fmt.Errorf("rates %q: %w", *rates, err)
				}
				r := one(fmt.Sprintf("capacity %s/s", f), servers[n], loadgen.Config{Clients: 1000, Rooms: 50, Rate: rate, Duration: *dur})
				if r.Connected < 1000 || r.Lost > 0 || r.P99Ms > 15 || r.GeneratorBound {
					break
				}
				held = rate
				res.CapacityDeliv[n] = r.DeliveriesPerSecond
			}
			res.CapacityRate[n] = held
		}
	}
	if want("profile") {
		top := make(chan string, 1)
		prof := loadgen.Config{Clients: 1000, Rooms: 50, Rate: 5, Duration: *dur}
		prof.OnPlay = func() { go func() { top <- profile(ctx, servers["ours"], bin, *dur-2*time.Second) }() }
		one("profile", servers["ours"], prof)
		res.ProfileTop = <-top
	}
	if want("large") {
		for _, n := range order {
			prepare = func(s *server, cfg *loadgen.Config) error {
				if s.name != "ours" {
					return nil
				}
				owner, err := adminDialer(ctx, s, 301)
				cfg.FirstDialer = owner
				return err
			}
			one("large", servers[n], loadgen.Config{Clients: 301, Rooms: 1, Players: 1, Rate: 50, Duration: *dur})
		}
		prepare = nil
	}
	if want("arrival") {
		// Every relay fresh, so the RSS per connection is the arrival's.
		for _, n := range order {
			s := servers[n]
			if n != "ours" || !*freshOurs {
				var err error
				if s, err = restart(s); err != nil {
					return err
				}
			}
			one("arrival", s, loadgen.Config{Clients: 1000, Rooms: 50})
		}
	}
	if want("arrival10k") {
		for _, n := range order {
			one("arrival10k", servers[n], loadgen.Config{Clients: 10000, Rooms: 500, DialConcurrency: 512})
		}
	}
	dir := *outDir
	if dir == "" {
		dir = filepath.Join(*root, "bench/fanout")
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results-"+strings.ToLower(*label)+".json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return writeReport(dir)
}

// waitIdle waits (at most 60s) until the server uses under a tenth of a
// core: the previous run's departures (presence, analytics) are done.
func waitIdle(pid int) {
	deadline := time.Now().Add(60 * time.Second)
	prev, _ := loadgen.ReadProc(pid)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		cur, err := loadgen.ReadProc(pid)
		if err != nil {
			return
		}
		if cur.CPU-prev.CPU < 100*time.Millisecond {
			return
		}
		prev = cur
	}
}

// sources are n loopback addresses (per-IP limits of our server count a
// client address).
func sources(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.0.%d", i+1)
	}
	return out
}

// profile takes a CPU profile of our server for d while a run goes on and
// returns the top entries.
func profile(ctx context.Context, s *server, bin string, d time.Duration) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.pprof, int(d.Seconds())), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "profile: " + err.Error()
	}
	defer resp.Body.Close()
	f := filepath.Join(os.TempDir(), fmt.Sprintf("bench-fanout-cpu-%d.pprof", time.Now().Unix()))
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "profile: " + err.Error()
	}
	if err := os.WriteFile(f, b, 0o644); err != nil {
		return "profile: " + err.Error()
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", filepath.Join(bin, "pianorhythm"), f).CombinedOutput()
	if err != nil {
		return "pprof: " + err.Error() + "\n" + string(out)
	}
	return fmt.Sprintf("(profile kept at %s)\n%s", f, out)
}

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model, n := "", 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			n++
			if model == "" {
				model = strings.TrimSpace(l[strings.Index(l, ":")+1:])
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(load))
	if len(f) > 3 {
		f = f[:3]
	}
	return fmt.Sprintf("%d x %s, shared with other work (load average %s at start)", n, model, strings.Join(f, " "))
}

func commit(root string) string {
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return "?"
	}
	s := strings.TrimSpace(string(out))
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}
