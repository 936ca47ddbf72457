package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadConfigurationFailsWithOneClearLine runs the program's run function
// with configurations that cannot work: each must end with an error naming
// the problem, on one line, instead of a stack trace or a hang.
func TestBadConfigurationFailsWithOneClearLine(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	readOnly := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	free := "127.0.0.1:0"
	base := []string{"-http", free, "-state-addr", free, "-user-addr", free, "-room-addr", free,
		"-connection-addr", free, "-analytics-addr", free, "-monitor-addr", free, "-data-dir", t.TempDir()}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable redis", []string{"-redis-url", "redis://127.0.0.1:1/0"}, "127.0.0.1:1"},
		{"taken port", []string{"-state-addr", taken.Addr().String()}, taken.Addr().String()},
		{"unwritable data dir", []string{"-data-dir", filepath.Join(readOnly, "data")}, readOnly},
		{"bad log level", []string{"-log-level", "loud"}, "PR_LOG_LEVEL"},
		{"pprof off loopback", []string{"-pprof-addr", "0.0.0.0:6060"}, "PR_PPROF_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if os.Geteuid() == 0 && tt.name == "unwritable data dir" {
				// root writes anywhere; make the parent a file instead.
				f := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				tt.args, tt.want = []string{"-data-dir", filepath.Join(f, "data")}, f
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			t.Setenv("REDIS_URL", "") // the embedded Redis unless the case sets one
			err := run(ctx, append(append([]string{}, base...), tt.args...))
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line naming %q", msg, tt.want)
			}
		})
	}
}

// TestPprofServesOnLoopback: an operator turning -pprof-addr on gets the
// profiles' index on that address, and nothing listens once ctx ends.
func TestPprofServesOnLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr, done, err := servePprof(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/ = %d %q", resp.StatusCode, body)
	}
	cancel()
	<-done
	if _, err := http.Get("http://" + addr + "/debug/pprof/"); err == nil {
		t.Fatal("pprof still served after stop")
	}
}
