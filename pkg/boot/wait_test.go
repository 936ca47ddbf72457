package boot

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/pianorhythm/server/pkg/logtest"
	"github.com/pianorhythm/server/pkg/rpc"
	"github.com/pianorhythm/server/pkg/store"
)

// parsed is a Program after Parse whose log goes to the returned buffer.
func parsed(t *testing.T, name string) (*Program, *logtest.Buffer) {
	t.Helper()
	p := New(name, "127.0.0.1:0", nil)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := p.Parse(t.Context()); err != nil {
		t.Fatal(err)
	}
	var buf logtest.Buffer
	p.Log = slog.New(slog.NewTextHandler(&buf, nil))
	return p, &buf
}

func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// serveHealth serves a gRPC server whose service reports SERVING on addr
// until the test ends.
func serveHealth(t *testing.T, addr, service string) {
	t.Helper()
	srv, err := rpc.NewServer(rpc.ServerConfig{Addr: addr, Logger: slog.New(slog.DiscardHandler), ServiceKeys: testKeys})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetServing(service, true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// TestWaitServingWaitsForAPeerThatStartsLate: the room program started
// before the state service waits, says so, and goes on within about a
// second of the state service answering.
func TestWaitServingWaitsForAPeerThatStartsLate(t *testing.T) {
	p, log := parsed(t, "room")
	addr := freeAddr(t)
	conn, err := p.Dial("state", addr)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- p.WaitServing(t.Context(), conn, "pianorhythm.v1.StateService") }()

	// Longer than one attempt (2s), so the wait is logged.
	time.Sleep(2500 * time.Millisecond)
	select {
	case err := <-waited:
		t.Fatalf("WaitServing returned %v before the peer started", err)
	default:
	}
	serveHealth(t, addr, "pianorhythm.v1.StateService")
	up := time.Now()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("WaitServing = %v", err)
		}
		t.Logf("went on %v after the peer started", time.Since(up).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("WaitServing still waiting 10s after the peer started")
	}
	for _, want := range []string{"waiting for pianorhythm.v1.StateService at " + addr, "pianorhythm.v1.StateService at " + addr + " is up"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestWaitServingNotServing: a peer that answers but is not SERVING yet
// (for that service) is still waited for.
func TestWaitServingNotServing(t *testing.T) {
	p, _ := parsed(t, "room")
	addr := freeAddr(t)
	serveHealth(t, addr, "other.Service")
	conn, err := p.Dial("state", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	err = p.WaitServing(ctx, conn, "pianorhythm.v1.StateService")
	if err == nil || !strings.Contains(err.Error(), "unknown service") {
		t.Fatalf("WaitServing on a server without the service = %v, want it to wait and name why", err)
	}
}

// TestWaitStopsWithTheContext: SIGTERM during a wait ends it with one
// error naming what was awaited, for how long, and the last failure.
func TestWaitStopsWithTheContext(t *testing.T) {
	p, _ := parsed(t, "room")
	addr := freeAddr(t)
	conn, err := p.Dial("state", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = p.WaitServing(ctx, conn, "pianorhythm.v1.StateService")
	if err == nil {
		t.Fatal("WaitServing with no peer returned nil")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("WaitServing returned %v after its context ended", took-500*time.Millisecond)
	}
	for _, want := range []string{"stopped while waiting", "pianorhythm.v1.StateService at " + addr, "not connected"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestRedisWaitsForTheServer: a program whose Redis is not up yet waits
// for it instead of exiting.
func TestRedisWaitsForTheServer(t *testing.T) {
	p, log := parsed(t, "state")
	addr := freeAddr(t)
	opened := make(chan error, 1)
	var r *store.Redis
	go func() {
		var err error
		r, err = p.Redis(t.Context(), "redis://"+addr+"/0")
		opened <- err
	}()
	time.Sleep(time.Second)
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("Redis = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting for Redis 10s after it started")
	}
	if err := r.Client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if !strings.Contains(log.String(), "waiting for redis at "+addr) {
		t.Errorf("the wait was not logged:\n%s", log)
	}
}

// TestStoresFailAtOnceOnMalformedAddresses: waiting is for servers that
// are not up yet; a URL that can never work fails at once.
func TestStoresFailAtOnceOnMalformedAddresses(t *testing.T) {
	p, _ := parsed(t, "state")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := p.Redis(ctx, "http://nope"); err == nil || ctx.Err() != nil {
		t.Errorf("Redis on a malformed URL = %v (context %v), want an error at once", err, ctx.Err())
	}
	if _, err := p.Mongo(ctx, store.MongoConfig{URI: "mongodb://a/?replicaSet=x&directConnection=true&loadBalanced=true"}); err == nil || ctx.Err() != nil {
		t.Errorf("Mongo on an invalid URI = %v (context %v), want an error at once", err, ctx.Err())
	}
}

// TestMongoWaitStopsWithTheContext: a MongoDB that does not answer is
// waited for until the program is told to stop.
func TestMongoWaitStopsWithTheContext(t *testing.T) {
	p, log := parsed(t, "state")
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	addr := freeAddr(t)
	_, err := p.Mongo(ctx, store.MongoConfig{URI: "mongodb://" + addr + "/?serverSelectionTimeoutMS=300"})
	if err == nil || !strings.Contains(err.Error(), "stopped while waiting") || !strings.Contains(err.Error(), "mongodb at mongodb://"+addr) {
		t.Fatalf("Mongo with no server = %v, want a stopped wait naming it", err)
	}
	if !strings.Contains(log.String(), "waiting for mongodb") {
		t.Errorf("the wait was not logged:\n%s", log)
	}
}

// TestClosersShareOneDeadline: a closer stuck on a dead dependency uses up
// the budget; the next closers still run, and Close returns in time.
func TestClosersShareOneDeadline(t *testing.T) {
	p := New("state", "127.0.0.1:0", nil)
	var ran []string
	p.Defer(func(ctx context.Context) error { ran = append(ran, "store"); return ctx.Err() })
	p.Defer(func(ctx context.Context) error { <-ctx.Done(); ran = append(ran, "stuck"); return ctx.Err() })
	start := time.Now()
	err := p.closeWithin(200 * time.Millisecond)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v with a 200ms budget", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || len(ran) != 2 || ran[1] != "store" {
		t.Errorf("Close = %v after %v, want both closers run and the deadline reported", err, ran)
	}
}

// TestMainExitsWhenStoppingHangs runs Main in a child process whose run
// ignores the signal: it must still exit, with one line, within the stop
// budget.
func TestMainExitsWhenStoppingHangs(t *testing.T) {
	if os.Getenv("BOOT_TEST_HANG") == "1" {
		Main("hang", "127.0.0.1:0", func(ctx context.Context, p *Program) error {
			os.Stdout.WriteString("ready\n")
			select {} // ignores ctx, as a stuck dependency call would
		})
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainExitsWhenStoppingHangs$")
	cmd.Env = append(os.Environ(), "BOOT_TEST_HANG=1")
	var stderr logtest.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make([]byte, 6)
	if _, err := out.Read(line); err != nil || string(line) != "ready\n" {
		t.Fatalf("child did not start: %q %v", line, err)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		took := time.Since(start)
		t.Logf("exited %v after SIGTERM: %v", took.Round(time.Millisecond), err)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("exit = %v, want status 1", err)
		}
		if took > 10*time.Second {
			t.Errorf("exited %v after SIGTERM, want within 10s", took)
		}
		if !strings.Contains(stderr.String(), "hang: still stopping 9s after the signal") {
			t.Errorf("stderr lacks the one line saying why:\n%s", stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGTERM")
	}
}
