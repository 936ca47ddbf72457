package fleet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one named process of the fleet, started again and again with the
// same command line and environment. Its methods are safe for concurrent
// use.
type proc struct {
	name string
	path string
	args []string
	env  []string
	log  string // output file, appended to by every start

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the running cmd has been reaped
	state   *os.ProcessState
	started time.Time
}

// Exit is how a process ended.
type Exit struct {
	// After is the time from the signal (or the call that waited) to the
	// end.
	After time.Duration
	// Code is the exit status; -1 when a signal ended it.
	Code int
	// Signal is the signal that ended it, if any.
	Signal string
}

func (e Exit) String() string {
	if e.Signal != "" {
		return fmt.Sprintf("killed by %s after %v", e.Signal, e.After.Round(time.Millisecond))
	}
	return fmt.Sprintf("exit status %d after %v", e.Code, e.After.Round(time.Millisecond))
}

// start runs the process; its output is appended to the log file after a
// header line. extraEnv is added to the process's environment for this
// start only.
func (p *proc) start(extraEnv ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			return fmt.Errorf("%s is already running (pid %d)", p.name, p.cmd.Process.Pid)
		}
	}
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "=== %s start %s %s\n", time.Now().Format(time.RFC3339Nano), p.path, strings.Join(p.args, " "))
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = append(append([]string{}, p.env...), extraEnv...)
	cmd.Stdout, cmd.Stderr = out, out
	// The kernel kills the child should the test binary die (a panic, a
	// test timeout), so no process outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	out.Close() // the child has its own descriptor
	exited := make(chan struct{})
	p.cmd, p.exited, p.state, p.started = cmd, exited, nil, time.Now()
	go func() {
		// Reaps the child; owned by the process, it ends when the child
		// does, which kill and cleanup ensure.
		_ = cmd.Wait()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

// running reports whether the process is running.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the running process and waits up to wait for it to
// end. ok is false when it was still running then.
func (p *proc) signal(sig syscall.Signal, wait time.Duration) (Exit, bool, error) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return Exit{}, false, fmt.Errorf("%s was never started", p.name)
	}
	start := time.Now()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return Exit{}, false, fmt.Errorf("signal %s: %w", p.name, err)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		return Exit{After: time.Since(start)}, false, nil
	}
	p.mu.Lock()
	st := p.state
	p.mu.Unlock()
	e := Exit{After: time.Since(start), Code: st.ExitCode()}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal().String()
	}
	return e, true, nil
}

// kill9 kills the process with SIGKILL and waits until it is reaped. A
// process that is not running is left as it is.
func (p *proc) kill9() error {
	if !p.running() {
		return nil
	}
	_, ok, err := p.signal(syscall.SIGKILL, 10*time.Second)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s still running 10s after SIGKILL", p.name)
	}
	return nil
}

// wroteLine reports whether the log has a line containing s since the
// last start.
func (p *proc) wroteLine(s string) bool {
	f, err := os.Open(p.log)
	if err != nil {
		return false
	}
	defer f.Close()
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "=== ") && strings.Contains(line, " start ") {
			found = false
		}
		if strings.Contains(line, s) {
			found = true
		}
	}
	return found
}

// tail returns the last n lines of the log.
func (p *proc) tail(n int) string {
	f, err := os.Open(p.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	// Read at most the last 256 KiB: enough for n lines of these logs.
	if st, err := f.Stat(); err == nil && st.Size() > 256<<10 {
		f.Seek(st.Size()-256<<10, io.SeekStart)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
