package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Dialer connects one client to the relay under test.
type Dialer interface {
	// Dial connects a client from the local IP src (empty: any), joins it
	// to room and returns once it is a member. From then on the client
	// calls rec.Heard for every note batch of another member it receives,
	// from one goroutine of its own that Close waits for.
	Dial(ctx context.Context, src, room string, rec *Recorder) (Client, error)
}

// Client is one connected member of a room.
type Client interface {
	// Play sends one note batch of n events stamped with stamp (Stamp()).
	Play(ctx context.Context, stamp int64, n int) error
	// Close disconnects and waits for the client's goroutines.
	Close() error
}

// epoch is the origin of Stamp: every client of a run is in this process.
var epoch = time.Now()

// Stamp is the send time a batch carries: nanoseconds on this process's
// monotonic clock. A receiver's latency is Stamp() at receipt minus it.
func Stamp() int64 { return int64(time.Since(epoch)) }

// Recorder collects one client's delivery latencies. Heard is called from
// the client's one receiving goroutine; the run reads it after Close.
type Recorder struct {
	lat        []int64
	heardCount atomic.Int64
	counting   atomic.Bool
	late       atomic.Int64 // heard while not counting (before start, after drain)
}

// Heard records a batch stamped stamp, received now.
func (r *Recorder) Heard(stamp int64) {
	if !r.counting.Load() {
		r.late.Add(1)
		return
	}
	r.lat = append(r.lat, Stamp()-stamp)
	r.heardCount.Add(1)
}

// Config is one run. Clients are spread over Rooms in turn (client i in
// room i mod Rooms); the first Players members of each room play.
type Config struct {
	Dialer Dialer
	// FirstDialer, when set, dials the first client of each room: an
	// account allowed to create the room as asked, a large one for
	// instance. Nil means Dialer. The rooms' first clients join (and
	// create) their rooms before everyone else, as someone opens a room
	// before others come in, and play first.
	FirstDialer Dialer
	// Clients is the number of connections; Rooms the number of rooms
	// (zero means 1); RoomPrefix names them ("<prefix><n>", zero means
	// "bench-").
	Clients, Rooms int
	RoomPrefix     string
	// Players per room; zero means every member. Rate is batches per
	// second per player; zero means nobody plays (an arrival or memory
	// run). Events per batch; zero means 2.
	Players int
	Rate    float64
	Events  int
	// Duration of playing; zero means 10s. Drain is how long deliveries
	// are awaited after the last batch; zero means 1s.
	Duration, Drain time.Duration
	// Sources are local IPs the clients connect from, in turn (several
	// loopback addresses where a per-IP limit would interfere); empty
	// means the system's choice.
	Sources []string
	// DialConcurrency bounds the clients connecting at once; zero means
	// 128. SetupTimeout bounds connecting and joining all; zero means 5m.
	DialConcurrency int
	SetupTimeout    time.Duration
	// ServerPID is the relay's process, read from /proc for CPU and RSS;
	// zero means not measured.
	ServerPID int
	// IdleSample is how long the server's CPU is sampled, after every
	// client joined and before playing, as its idle baseline (timers,
	// health checks, heartbeats); zero means 2s, negative means none.
	IdleSample time.Duration
	// OnPlay, if set, is called when playing starts (after every client
	// joined), to start a profile for instance.
	OnPlay func()
	// MaxClients bounds Clients (a guard against typos); zero means 20,000.
	MaxClients int
	// Settle, with ServerPID, waits after the clients left until the
	// server is quiet (under QuietCPU of CPU in a second), at most this
	// long, and reports its CPU from the first dial until then; zero
	// means no wait.
	Settle time.Duration
}

// QuietCPU is the server CPU per second under which Settle calls it quiet.
const QuietCPU = 50 * time.Millisecond

func (c Config) withDefaults() Config {
	if c.FirstDialer == nil {
		c.FirstDialer = c.Dialer
	}
	if c.Rooms <= 0 {
		c.Rooms = 1
	}
	if c.RoomPrefix == "" {
		c.RoomPrefix = "bench-"
	}
	if c.Events <= 0 {
		c.Events = 2
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = time.Second
	}
	if c.DialConcurrency <= 0 {
		c.DialConcurrency = 128
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 5 * time.Minute
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 20000
	}
	return c
}

// Validate reports a run that cannot be made.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Dialer == nil:
		return errors.New("loadgen: no dialer")
	case c.Clients <= 0 || c.Clients > c.MaxClients:
		return fmt.Errorf("loadgen: clients %d out of 1..%d", c.Clients, c.MaxClients)
	case c.Rate < 0 || c.Rate > 1000:
		return fmt.Errorf("loadgen: rate %v out of 0..1000", c.Rate)
	case c.Duration > time.Hour:
		return errors.New("loadgen: duration over an hour")
	}
	return nil
}

// Result is what a run measured. Durations are in the units their names
// say, so the JSON form reads without conversion.
type Result struct {
	Clients, Rooms, Players int
	Rate                    float64
	Events                  int
	Connected               int
	ConnectErrors           int
	JoinRetries             int64   // joins answered "try again" (UNAVAILABLE) and retried
	FirstConnectError       string  `json:",omitempty"`
	SetupSeconds            float64 // wall time to connect and join every client
	Batches                 int64   // batches sent
	SendErrors              int64
	Expected                int64 // deliveries owed: batches x (room members - 1)
	Deliveries              int64 // deliveries received while counting
	Lost                    int64 // Expected - Deliveries (never negative)
	PlaySeconds             float64
	DeliveriesPerSecond     float64
	P50Ms, P99Ms, P999Ms    float64
	MaxMs                   float64
	// Server figures (zero when ServerPID is not set).
	ServerSetupCPUSeconds   float64 // CPU while connecting and joining
	ServerSetupCPUPerConnMs float64
	ServerPlayCPUSeconds    float64 // CPU while playing and draining
	ServerCPUPer1000Deliv   float64 // seconds of server CPU per 1,000 deliveries
	ServerIdleCores         float64 // the server's CPU / wall while idle with every client joined
	ServerNetPer1000Deliv   float64 // ServerCPUPer1000Deliv less the idle baseline
	ServerRSSBeforeMiB      float64
	ServerRSSAfterSetupMiB  float64
	ServerRSSPerConnKiB     float64 // (RSS after setup - before) / connected
	ServerCores             float64 // server CPU / wall while playing
	// The generator's own CPU while playing, and whether it, not the
	// server, was the bottleneck: the machine was nearly busy (server +
	// generator at least 90% of every core) and the generator used more
	// than the server. Such a run measures the generator.
	GeneratorCPUSeconds float64
	GeneratorCores      float64
	GeneratorBound      bool
	// With Settle: the server CPU from the first dial until it was quiet
	// after the clients left (or Settle ran out: Quiet false), which
	// counts the work the clients' arrival, play and departure left for
	// later, and the seconds waited.
	ServerCPUToQuietSeconds   float64
	ServerCPUToQuietPerConnMs float64
	SettleSeconds             float64
	Quiet                     bool
}

type member struct {
	c    Client
	rec  *Recorder
	room int
}

// Run makes one run: connect and join every client, play for Duration,
// drain, disconnect.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	cfg = cfg.withDefaults()
	res := Result{Clients: cfg.Clients, Rooms: cfg.Rooms, Players: cfg.Players, Rate: cfg.Rate, Events: cfg.Events}
	proc := func() ProcStat {
		if cfg.ServerPID == 0 {
			return ProcStat{}
		}
		st, _ := ReadProc(cfg.ServerPID)
		return st
	}

	// Arrival.
	before := proc()
	start := time.Now()
	members := make([]*member, cfg.Clients)
	var (
		mu       sync.Mutex
		firstErr error
		nerr     int
	)
	sctx, cancel := context.WithTimeout(ctx, cfg.SetupTimeout)
	sem := make(chan struct{}, cfg.DialConcurrency)
	var wg sync.WaitGroup
	dial := func(i int) {
		src := ""
		if len(cfg.Sources) > 0 {
			src = cfg.Sources[i%len(cfg.Sources)]
		}
		m := &member{rec: &Recorder{}, room: i % cfg.Rooms}
		d := cfg.Dialer
		if i < cfg.Rooms {
			d = cfg.FirstDialer
		}
		c, err := d.Dial(sctx, src, fmt.Sprintf("%s%d", cfg.RoomPrefix, m.room), m.rec)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			nerr++
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		m.c = c
		members[i] = m
	}
	// The rooms' first members, before anyone else.
	for i := range min(cfg.Rooms, cfg.Clients) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			dial(i)
		})
	}
	wg.Wait()
	for i := cfg.Rooms; i < cfg.Clients; i++ {
		select {
		case sem <- struct{}{}:
		case <-sctx.Done():
		}
		if sctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			dial(i)
		})
	}
	wg.Wait()
	cancel()
	res.SetupSeconds = time.Since(start).Seconds()
	afterSetup := proc()
	res.ConnectErrors = nerr
	for _, d := range []Dialer{cfg.Dialer, cfg.FirstDialer} {
		if r, ok := d.(interface{ Retries() int64 }); ok {
			res.JoinRetries += r.Retries()
		}
		if cfg.FirstDialer == cfg.Dialer {
			break
		}
	}
	if firstErr != nil {
		res.FirstConnectError = firstErr.Error()
	}
	live := slices.DeleteFunc(members, func(m *member) bool { return m == nil })
	res.Connected = len(live)
	res.ServerSetupCPUSeconds = (afterSetup.CPU - before.CPU).Seconds()
	res.ServerRSSBeforeMiB = float64(before.RSS) / (1 << 20)
	res.ServerRSSAfterSetupMiB = float64(afterSetup.RSS) / (1 << 20)
	if res.Connected > 0 {
		res.ServerSetupCPUPerConnMs = res.ServerSetupCPUSeconds * 1000 / float64(res.Connected)
		res.ServerRSSPerConnKiB = float64(afterSetup.RSS-before.RSS) / 1024 / float64(res.Connected)
	}
	var closeOnce sync.Once
	closeAll := func() {
		closeOnce.Do(func() {
			var cw sync.WaitGroup
			for _, m := range live {
				cw.Go(func() { _ = m.c.Close() })
			}
			cw.Wait()
		})
	}
	defer closeAll()
	if cfg.Rate == 0 || res.Connected == 0 {
		closeAll()
		settle(ctx, cfg, proc, before, &res)
		return res, nil
	}

	// Playing.
	size := make([]int64, cfg.Rooms)
	var players []*member
	seen := make([]int, cfg.Rooms)
	for _, m := range live {
		size[m.room]++
		if cfg.Players == 0 || seen[m.room] < cfg.Players {
			players = append(players, m)
		}
		seen[m.room]++
	}
	for _, m := range live {
		m.rec.counting.Store(true)
	}
	var batches, sendErrs, expected atomic.Int64
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	pctx, stop := context.WithTimeout(ctx, cfg.Duration)
	if cfg.ServerPID != 0 && cfg.IdleSample >= 0 {
		d := cfg.IdleSample
		if d == 0 {
			d = 2 * time.Second
		}
		a, t0 := proc(), time.Now()
		time.Sleep(d)
		res.ServerIdleCores = (proc().CPU - a.CPU).Seconds() / time.Since(t0).Seconds()
	}
	if cfg.OnPlay != nil {
		cfg.OnPlay()
	}
	genBefore, srvBefore, playStart := selfCPU(), proc(), time.Now()
	var pw sync.WaitGroup
	for _, p := range players {
		pw.Go(func() {
			// A random phase, so the players do not all send at once; the
			// schedule starts at the first send, so each keeps its phase
			// (counting from the common start would line every player up
			// on the same instants after the first batch: bursts of a
			// whole round of batches, whose queueing is then measured).
			t := time.NewTimer(time.Duration(rand.Int64N(int64(interval))))
			defer t.Stop()
			var next time.Time
			for {
				select {
				case <-pctx.Done():
					return
				case <-t.C:
				}
				if next.IsZero() {
					next = time.Now()
				}
				if err := p.c.Play(pctx, Stamp(), cfg.Events); err != nil {
					if pctx.Err() != nil {
						return
					}
					sendErrs.Add(1)
				} else {
					batches.Add(1)
					expected.Add(size[p.room] - 1)
				}
				next = next.Add(interval)
				if d := time.Until(next); d > 0 {
					t.Reset(d)
				} else {
					next = time.Now()
					t.Reset(0)
				}
			}
		})
	}
	pw.Wait()
	stop()
	// Drain: wait until everything owed arrived, or Drain passed.
	deadline := time.Now().Add(cfg.Drain)
	for time.Now().Before(deadline) && heard(live) < expected.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	for _, m := range live {
		m.rec.counting.Store(false)
	}
	wall := time.Since(playStart)
	genCPU, srvAfter := selfCPU()-genBefore, proc()
	closeAll() // the recorders are ours from here on
	res.PlaySeconds = cfg.Duration.Seconds()
	res.Batches, res.SendErrors, res.Expected = batches.Load(), sendErrs.Load(), expected.Load()
	var all []int64
	for _, m := range live {
		all = append(all, m.rec.lat...)
	}
	res.Deliveries = int64(len(all))
	res.Lost = max(0, res.Expected-res.Deliveries)
	res.DeliveriesPerSecond = float64(res.Deliveries) / cfg.Duration.Seconds()
	slices.Sort(all)
	ms := func(q float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / 1e6
	}
	res.P50Ms, res.P99Ms, res.P999Ms = ms(0.50), ms(0.99), ms(0.999)
	if len(all) > 0 {
		res.MaxMs = float64(all[len(all)-1]) / 1e6
	}
	res.GeneratorCPUSeconds = genCPU.Seconds()
	res.GeneratorCores = genCPU.Seconds() / wall.Seconds()
	if cfg.ServerPID != 0 {
		res.ServerPlayCPUSeconds = (srvAfter.CPU - srvBefore.CPU).Seconds()
		res.ServerCores = res.ServerPlayCPUSeconds / wall.Seconds()
		if res.Deliveries > 0 {
			res.ServerCPUPer1000Deliv = res.ServerPlayCPUSeconds * 1000 / float64(res.Deliveries)
			net := res.ServerPlayCPUSeconds - res.ServerIdleCores*wall.Seconds()
			res.ServerNetPer1000Deliv = max(0, net) * 1000 / float64(res.Deliveries)
		}
		busy := (res.ServerCores + res.GeneratorCores) / float64(runtime.NumCPU())
		res.GeneratorBound = busy >= 0.9 && res.GeneratorCores > res.ServerCores
	}
	settle(ctx, cfg, proc, before, &res)
	return res, nil
}

// settle waits, once the clients have left, until the server is quiet or
// cfg.Settle has passed, and records its CPU since from (the first dial).
// A server saturated while a crowd arrives does part of the work the
// arrival leaves (analytics, archive writes) while others arrive, and the
// rest afterwards, so the connect-and-join window alone says little of
// what an arrival costs.
func settle(ctx context.Context, cfg Config, proc func() ProcStat, from ProcStat, res *Result) {
	if cfg.Settle <= 0 || cfg.ServerPID == 0 {
		return
	}
	start := time.Now()
	prev := proc()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for time.Since(start) < cfg.Settle && !res.Quiet {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := proc()
		res.Quiet = cur.CPU-prev.CPU < QuietCPU
		prev = cur
	}
	res.SettleSeconds = time.Since(start).Seconds()
	res.ServerCPUToQuietSeconds = (prev.CPU - from.CPU).Seconds()
	if res.Connected > 0 {
		res.ServerCPUToQuietPerConnMs = res.ServerCPUToQuietSeconds * 1000 / float64(res.Connected)
	}
}

// heard counts the deliveries recorded so far.
func heard(ms []*member) int64 {
	var n int64
	for _, m := range ms {
		n += m.rec.heardCount.Load()
	}
	return n
}
