package fleet

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pianorhythm/server/pkg/auth"
	"github.com/pianorhythm/server/pkg/rpc"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Layout is how many replicas of the replicated programs a fleet runs.
// Zero values mean 1. There is always one user, one analytics and one
// monitor process.
type Layout struct {
	// Edges are connection programs: edge-1, edge-2, ...
	Edges int
	// Rooms are room programs room-1, ...; edge-i talks to room-((i-1)%Rooms+1).
	Rooms int
	// States are state programs state-1, ...; room-i, edge-i and the
	// others are spread over them the same way (user and analytics use
	// state-1).
	States int
	// Env is added to every program's environment (after the fleet's own
	// variables, so it wins).
	Env []string
}

// Fleet is one Redis, one MongoDB-wire server and the service programs,
// each its own process on loopback ports. Create it with New; every
// process is killed when the test ends. Its methods may be called from
// several goroutines of the test.
type Fleet struct {
	t      testing.TB
	dir    string
	bin    string
	layout Layout

	redis    *proc
	redisURL string
	mongo    *proc
	mongoURI string

	procs map[string]*proc
	// grpcAddr and httpAddr are where each process listens.
	grpcAddr map[string]string
	httpAddr map[string]string

	// keys are the fleet's service keys (PR_SERVICE_KEY of every
	// process); the test's own connections sign with them too.
	keys auth.ServiceKeys
	// seed is the user service's signing key (PR_USER_SIGNING_SEED).
	seed []byte

	connsMu sync.Mutex
	conns   map[string]*grpc.ClientConn
}

// health names the gRPC service each program reports SERVING.
var health = map[string]string{
	"state":      "pianorhythm.v1.StateService",
	"user":       "pianorhythm.v1.UserService",
	"room":       "pianorhythm.v1.RoomService",
	"connection": "pianorhythm.v1.ConnectionService",
	"analytics":  "pianorhythm.v1.AnalyticsService",
	"monitor":    "pianorhythm.v1.MonitorService",
}

// New builds the programs (once per test binary), starts Redis and the
// MongoDB server, and declares the service processes of layout on free
// ports without starting them (StartAll or Start does).
func New(t testing.TB, layout Layout) *Fleet {
	t.Helper()
	layout.Edges, layout.Rooms, layout.States = max(layout.Edges, 1), max(layout.Rooms, 1), max(layout.States, 1)
	f := &Fleet{
		t: t, dir: logDir(t), bin: Binaries(t), layout: layout,
		procs: map[string]*proc{}, grpcAddr: map[string]string{}, httpAddr: map[string]string{},
		conns: map[string]*grpc.ClientConn{}, keys: auth.NewServiceKeys(),
	}
	t.Cleanup(f.cleanup)
	f.startRedis()
	f.startMongo()
	f.declare()
	return f
}

// logDir is $ARTIFACTS_DIR/fleet/<test> when ARTIFACTS_DIR is set (kept
// for CI), else a temporary directory of the test.
func logDir(t testing.TB) string {
	if a := os.Getenv("ARTIFACTS_DIR"); a != "" {
		name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
		dir := filepath.Join(a, "fleet", name+"-"+strconv.FormatInt(time.Now().Unix(), 36))
		if err := os.MkdirAll(dir, 0o755); err == nil {
			return dir
		}
	}
	return t.TempDir()
}

func (f *Fleet) port() int {
	f.t.Helper()
	p, err := freePort()
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// baseEnv is the environment every process starts from: nothing of the
// test's own (REDIS_URL, MONGODB_URI and OTEL_* of CI must not leak in).
func baseEnv() []string {
	env := []string{"OTEL_EXPORTER_OTLP_ENDPOINT="}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (f *Fleet) startRedis() {
	f.t.Helper()
	port := f.port()
	dir := filepath.Join(f.t.TempDir(), "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	path := "/usr/bin/redis-server"
	if _, err := os.Stat(path); err != nil {
		path = "redis-server"
	}
	f.redis = &proc{
		name: "redis", path: path, env: baseEnv(), log: filepath.Join(f.dir, "redis.log"),
		// Nothing persisted: a restart comes back empty, as a lost Redis.
		args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--protected-mode", "no"},
	}
	f.redisURL = "redis://" + loopback(port) + "/0"
	f.RestartRedis()
}

// KillRedis kills Redis with SIGKILL.
func (f *Fleet) KillRedis() {
	f.t.Helper()
	if err := f.redis.kill9(); err != nil {
		f.t.Fatal(err)
	}
}

// RestartRedis starts Redis again on the same port, empty, and waits until
// it answers PING.
func (f *Fleet) RestartRedis() {
	f.t.Helper()
	if err := f.redis.kill9(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.redis.start(); err != nil {
		f.t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(f.redisURL, "redis://"), "/0")
	deadline := time.Now().Add(10 * time.Second)
	for !redisPing(addr) {
		if time.Now().After(deadline) {
			f.t.Fatalf("redis on %s does not answer PING:\n%s", addr, f.redis.tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RedisURL is the fleet's Redis.
func (f *Fleet) RedisURL() string { return f.redisURL }

func (f *Fleet) startMongo() {
	f.t.Helper()
	f.mongo = &proc{
		name: "mongodb", path: filepath.Join(f.bin, mongoProgram), env: baseEnv(),
		args: []string{"-data-dir", filepath.Join(f.t.TempDir(), "mongodb")},
		log:  filepath.Join(f.dir, "mongodb.log"),
	}
	if err := f.mongo.start(); err != nil {
		f.t.Fatal(err)
	}
	// The URI is the first line of output.
	deadline := time.Now().Add(60 * time.Second)
	for f.mongoURI == "" {
		if b, err := os.ReadFile(f.mongo.log); err == nil {
			sc := bufio.NewScanner(strings.NewReader(string(b)))
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "mongodb://") {
					f.mongoURI = strings.TrimSpace(sc.Text())
				}
			}
		}
		if f.mongoURI != "" {
			break
		}
		if !f.mongo.running() || time.Now().After(deadline) {
			f.t.Fatalf("the MongoDB server did not start:\n%s", f.mongo.tail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// KillMongo kills the MongoDB server with SIGKILL (it is not restarted:
// its port would change).
func (f *Fleet) KillMongo() {
	f.t.Helper()
	if err := f.mongo.kill9(); err != nil {
		f.t.Fatal(err)
	}
}

// DumpMongo asks the MongoDB server for the stacks of its goroutines
// (written to its log, which a failed test prints), to show what a stalled
// scenario was waiting on inside it.
func (f *Fleet) DumpMongo() {
	f.t.Helper()
	if _, _, err := f.mongo.signal(syscall.SIGUSR1, 0); err != nil {
		f.t.Logf("dump mongodb: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // the dump is written asynchronously
}

// declare sets up every service process of the layout.
func (f *Fleet) declare() {
	l := f.layout
	seed := make([]byte, 32)
	rand.Read(seed)
	f.seed = seed
	const prefix = "pr:"
	stream := prefix + "analytics:events"
	for _, name := range f.serviceNames() {
		f.grpcAddr[name] = loopback(f.port())
	}
	f.httpAddr["monitor"] = loopback(f.port())
	for i := 1; i <= l.Edges; i++ {
		f.httpAddr[edgeName(i)] = loopback(f.port())
	}
	stateOf := func(i int) string { return "state-" + strconv.Itoa((i-1)%l.States+1) }
	roomOf := func(i int) string { return "room-" + strconv.Itoa((i-1)%l.Rooms+1) }
	common := func(name string) []string {
		return []string{
			"PR_LISTEN_ADDR=" + f.grpcAddr[name], "PR_LOG_LEVEL=info", "PR_KEY_PREFIX=" + prefix,
			"PR_MONITOR_ADDR=" + f.grpcAddr["monitor"], "PR_DATA_DIR=" + filepath.Join(f.dir, name+"-data"),
			"PR_SERVICE_KEY=" + f.keys.Encode(), "PR_USER_ADDR=" + f.grpcAddr["user"],
		}
	}
	for i := 1; i <= l.States; i++ {
		name := "state-" + strconv.Itoa(i)
		f.add(name, "state", common(name), "REDIS_URL="+f.redisURL, "MONGODB_URI="+f.mongoURI)
	}
	f.add("user", "user", common("user"), "PR_STATE_ADDR="+f.grpcAddr[stateOf(1)], "MONGODB_URI="+f.mongoURI,
		"PR_USER_SIGNING_SEED="+base64.StdEncoding.EncodeToString(seed))
	for i := 1; i <= l.Rooms; i++ {
		name := "room-" + strconv.Itoa(i)
		f.add(name, "room", common(name), "PR_STATE_ADDR="+f.grpcAddr[stateOf(i)],
			"REDIS_URL="+f.redisURL, "PR_ANALYTICS_STREAM="+stream)
	}
	f.add("analytics", "analytics", common("analytics"), "REDIS_URL="+f.redisURL, "MONGODB_URI="+f.mongoURI,
		"PR_ANALYTICS_STREAM="+stream, "PR_ANALYTICS_CONSUMER=fleet")
	f.add("monitor", "monitor", common("monitor"), "PR_MONITOR_HTTP="+f.httpAddr["monitor"],
		"PR_STATE_ADDR="+f.grpcAddr[stateOf(1)], "PR_ROOM_ADDR="+f.grpcAddr[roomOf(1)],
		"PR_CONNECTION_ADDR="+f.grpcAddr[edgeName(1)], "PR_ANALYTICS_ADDR="+f.grpcAddr["analytics"],
		"REDIS_URL="+f.redisURL, "MONGODB_URI="+f.mongoURI, "PR_MONITOR_CHECK_INTERVAL=2s")
	for i := 1; i <= l.Edges; i++ {
		name := edgeName(i)
		f.add(name, "connection", common(name), "PR_HTTP_ADDR="+f.httpAddr[name], "PR_INSTANCE_ID="+name,
			"PR_STATE_ADDR="+f.grpcAddr[stateOf(i)], "PR_ROOM_ADDR="+f.grpcAddr[roomOf(i)],
			"PR_ANALYTICS_ADDR="+f.grpcAddr["analytics"], "REDIS_URL="+f.redisURL)
	}
}

func edgeName(i int) string { return "edge-" + strconv.Itoa(i) }

// serviceNames lists the service processes in dependency order.
func (f *Fleet) serviceNames() []string {
	var names []string
	for i := 1; i <= f.layout.States; i++ {
		names = append(names, "state-"+strconv.Itoa(i))
	}
	names = append(names, "user")
	for i := 1; i <= f.layout.Rooms; i++ {
		names = append(names, "room-"+strconv.Itoa(i))
	}
	names = append(names, "analytics", "monitor")
	for i := 1; i <= f.layout.Edges; i++ {
		names = append(names, edgeName(i))
	}
	return names
}

// Names lists the processes of program ("state", "connection", ...) in
// order; Names("") lists every service process.
func (f *Fleet) Names(program string) []string {
	var out []string
	for _, n := range f.serviceNames() {
		if program == "" || programOf(n) == program {
			out = append(out, n)
		}
	}
	return out
}

func programOf(name string) string {
	base, _, _ := strings.Cut(name, "-")
	if base == "edge" {
		return "connection"
	}
	return base
}

func (f *Fleet) add(name, program string, env []string, more ...string) {
	f.procs[name] = &proc{
		name: name, path: filepath.Join(f.bin, program),
		env: append(append(append(baseEnv(), env...), more...), f.layout.Env...),
		log: filepath.Join(f.dir, name+".log"),
	}
}

func (f *Fleet) proc(name string) *proc {
	f.t.Helper()
	p, ok := f.procs[name]
	if !ok {
		f.t.Fatalf("no process %q in the fleet (have %v)", name, f.serviceNames())
	}
	return p
}

// StartOptions change one start of a process.
type StartOptions struct {
	// Env is added to the process's environment for this start.
	Env []string
}

// Start starts one process (without waiting for it to be healthy).
func (f *Fleet) Start(name string, opts StartOptions) {
	f.t.Helper()
	if err := f.proc(name).start(opts.Env...); err != nil {
		f.t.Fatal(err)
	}
}

// StartAll starts every service process at once, in no particular order
// (each waits for what it needs), and waits until all are healthy.
func (f *Fleet) StartAll() {
	f.t.Helper()
	for _, n := range f.serviceNames() {
		f.Start(n, StartOptions{})
	}
	for _, n := range f.serviceNames() {
		f.WaitHealthy(n)
	}
}

// Kill9 kills a process with SIGKILL and waits until it is gone.
func (f *Fleet) Kill9(name string) {
	f.t.Helper()
	if err := f.proc(name).kill9(); err != nil {
		f.t.Fatal(err)
	}
}

// Restart kills the process if it runs and starts it again with the same
// command line, ports and environment. It does not wait for health.
func (f *Fleet) Restart(name string) {
	f.t.Helper()
	f.Kill9(name)
	f.Start(name, StartOptions{})
}

// Running reports whether the process runs.
func (f *Fleet) Running(name string) bool { return f.proc(name).running() }

// Signal sends sig and waits up to wait for the process to end; ok is false
// if it still ran then.
func (f *Fleet) Signal(name string, sig syscall.Signal, wait time.Duration) (e Exit, ok bool) {
	f.t.Helper()
	e, ok, err := f.proc(name).signal(sig, wait)
	if err != nil {
		f.t.Fatal(err)
	}
	return e, ok
}

// WroteLine reports whether the process's output since its last start has
// a line containing s.
func (f *Fleet) WroteLine(name, s string) bool { return f.proc(name).wroteLine(s) }

// Tail returns the last n lines of a process's output.
func (f *Fleet) Tail(name string, n int) string { return f.proc(name).tail(n) }

// Healthy reports whether a process answers: gRPC health SERVING for its
// service, and for an edge also /readyz 200.
func (f *Fleet) Healthy(ctx context.Context, name string) error {
	if programOf(name) == "connection" {
		return f.Ready(ctx, name)
	}
	return f.serving(ctx, name)
}

func (f *Fleet) serving(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	res, err := healthpb.NewHealthClient(f.Conn(name)).Check(ctx, &healthpb.HealthCheckRequest{Service: health[programOf(name)]})
	if err != nil {
		return err
	}
	if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s", res.GetStatus())
	}
	return nil
}

// Ready asks an edge's /readyz; nil when it answers 200.
func (f *Fleet) Ready(ctx context.Context, edge string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+f.httpAddr[edge]+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var b strings.Builder
		bufio.NewReader(res.Body).WriteTo(&b)
		return fmt.Errorf("/readyz %d %s", res.StatusCode, strings.TrimSpace(b.String()))
	}
	return nil
}

// WaitHealthy waits (up to 60s) until the process is healthy and returns
// how long that took. It fails the test if the process exits meanwhile or
// stays unhealthy.
func (f *Fleet) WaitHealthy(name string) time.Duration {
	f.t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < 60*time.Second {
		if !f.proc(name).running() {
			f.t.Fatalf("%s exited while waiting for it to be healthy:\n%s", name, f.Tail(name, 30))
		}
		if last = f.Healthy(context.Background(), name); last == nil {
			return time.Since(start)
		}
		time.Sleep(25 * time.Millisecond)
	}
	f.t.Fatalf("%s not healthy within 60s: %v\n%s", name, last, f.Tail(name, 30))
	return 0
}

// Conn is the test's own gRPC connection to a process (plain gRPC with a
// short reconnect backoff, so it follows restarts at once), whose calls
// carry the fleet's service credential as a service's would.
func (f *Fleet) Conn(name string) *grpc.ClientConn {
	return f.conn(name, true)
}

// UnsignedConn is a connection to a process whose calls carry no service
// credential: what anyone who reaches the port without the key has.
func (f *Fleet) UnsignedConn(name string) *grpc.ClientConn {
	return f.conn(name, false)
}

func (f *Fleet) conn(name string, signed bool) *grpc.ClientConn {
	f.connsMu.Lock()
	defer f.connsMu.Unlock()
	key := name
	if !signed {
		key += " (unsigned)"
	}
	if c, ok := f.conns[key]; ok {
		return c
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: grpcbackoff.Config{
			BaseDelay: 20 * time.Millisecond, Multiplier: 1.5, MaxDelay: 200 * time.Millisecond}}),
	}
	if signed {
		opts = append(opts, rpc.WithServiceCredentials(f.keys, "fleet-test")...)
	}
	c, err := grpc.NewClient(f.grpcAddr[name], opts...)
	if err != nil {
		f.t.Fatalf("dial %s: %v", name, err)
	}
	f.conns[key] = c
	return c
}

// SigningSeed is the Ed25519 seed the fleet's user service signs access
// tokens with (for tests that mint tokens an attacker holding the key of
// another deployment could).
func (f *Fleet) SigningSeed() []byte { return append([]byte(nil), f.seed...) }

// ServiceKeys are the fleet's service keys.
func (f *Fleet) ServiceKeys() auth.ServiceKeys { return f.keys }

// GRPCAddr and HTTPAddr are where a process listens.
func (f *Fleet) GRPCAddr(name string) string { return f.grpcAddr[name] }

// HTTPAddr is an edge's (or the monitor's) HTTP address.
func (f *Fleet) HTTPAddr(name string) string { return f.httpAddr[name] }

// WebSocketURL is an edge's /ws.
func (f *Fleet) WebSocketURL(edge string) string { return "ws://" + f.httpAddr[edge] + "/ws" }

// cleanup kills every process, then prints the end of each log if the
// test failed.
func (f *Fleet) cleanup() {
	f.connsMu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.connsMu.Unlock()
	all := append(slices.Collect(func(yield func(*proc) bool) {
		for _, n := range f.serviceNames() {
			if !yield(f.procs[n]) {
				return
			}
		}
	}), f.redis, f.mongo)
	for _, p := range all {
		if p == nil {
			continue
		}
		if err := p.kill9(); err != nil {
			f.t.Errorf("cleanup: %v", err)
		}
	}
	if !f.t.Failed() {
		return
	}
	for _, p := range all {
		if p != nil {
			f.t.Logf("--- last lines of %s (%s):\n%s", p.name, p.log, p.tail(60))
		}
	}
}
