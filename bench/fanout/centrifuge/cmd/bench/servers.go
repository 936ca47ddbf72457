package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is one relay under test, a child process of the bench.
type server struct {
	name  string // ours, naive, centrifuge
	url   string // what the generator dials
	http  string // ours: the edge's base URL
	pprof string // ours: the pprof listener, if on
	cmd   *exec.Cmd
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the process (SIGTERM, then SIGKILL after 15s) and waits.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// build compiles the relays into dir.
func build(root, dir string) error {
	for _, b := range []struct{ pkgDir, pkg, out string }{
		{root, "./cmd/pianorhythm", "pianorhythm"},
		{root, "./bench/fanout/naive", "naive"},
		{filepath.Join(root, "bench/fanout/centrifuge"), "./cmd/relay", "centrifuge-relay"},
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Dir = b.pkgDir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", b.pkg, err)
		}
	}
	return nil
}

const (
	oursAddr  = "127.0.0.1:18480"
	pprofAddr = "127.0.0.1:18489"
	naiveAddr = "127.0.0.1:18490"
	cfAddr    = "127.0.0.1:18491"
)

func start(ctx context.Context, name, bin, work, redisURL string, extra []string) (*server, error) {
	var s *server
	var cmd *exec.Cmd
	switch name {
	case "ours":
		data, err := os.MkdirTemp(work, "data-")
		if err != nil {
			return nil, err
		}
		args := []string{"-http", oursAddr, "-data-dir", data, "-log-level", "warn",
			"-key-prefix", fmt.Sprintf("bench%d:", time.Now().UnixNano()), "-admins", benchAdmin,
			"-pprof-addr", pprofAddr}
		for _, f := range []string{"-state-addr", "-user-addr", "-room-addr", "-connection-addr", "-analytics-addr", "-monitor-addr"} {
			args = append(args, f, "127.0.0.1:0")
		}
		cmd = exec.Command(filepath.Join(bin, "pianorhythm"), append(args, extra...)...)
		cmd.Env = append(os.Environ(), "REDIS_URL="+redisURL)
		s = &server{name: name, url: "ws://" + oursAddr + "/ws", http: "http://" + oursAddr, pprof: "http://" + pprofAddr}
	case "naive":
		cmd = exec.Command(filepath.Join(bin, "naive"), "-addr", naiveAddr)
		s = &server{name: name, url: "ws://" + naiveAddr + "/ws"}
	case "centrifuge":
		cmd = exec.Command(filepath.Join(bin, "centrifuge-relay"), "-addr", cfAddr)
		s = &server{name: name, url: "ws://" + cfAddr + "/connection/websocket"}
	default:
		return nil, fmt.Errorf("unknown server %q", name)
	}
	logf, err := os.Create(filepath.Join(work, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	s.cmd = cmd
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s not ready (see %s): %w", name, logf.Name(), err)
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if s.http != "" {
			if resp, err := http.Get(s.http + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		} else {
			addr := strings.SplitN(strings.TrimPrefix(s.url, "ws://"), "/", 2)[0]
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return ctx.Err()
}
