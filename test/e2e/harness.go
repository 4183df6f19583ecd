// Package e2e holds whole-binary tests: they build bin/kith once, run
// daemons in temporary homes on real unix sockets and 127.0.0.1, and drive
// them with the CLI exactly as a person would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the kith binary under test, built by Build.
var Binary string

// Build compiles the kith binary into dir and sets Binary.
func Build(dir string) error {
	Binary = filepath.Join(dir, "kith")
	cmd := exec.Command("go", "build", "-o", Binary, ".")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building kith: %w", err)
	}
	return nil
}

// Home is one KITH_HOME with its daemon.
type Home struct {
	tb  testing.TB
	Dir string
	// Env is added to the environment of every run (KITH_PASSPHRASE=…).
	Env []string

	mu     sync.Mutex
	daemon *exec.Cmd
	done   chan struct{}
	stderr *bytes.Buffer
}

// NewHome makes a short temporary home (unix socket paths are limited to
// ~107 bytes) and runs `kith init --no-passphrase` in it.
func NewHome(tb testing.TB) *Home {
	tb.Helper()
	h := NewBareHome(tb)
	h.MustRun("init", "--no-passphrase")
	return h
}

// NewBareHome makes a short temporary home and runs nothing in it.
func NewBareHome(tb testing.TB) *Home {
	tb.Helper()
	dir, err := os.MkdirTemp("", "kith-e2e-")
	if err != nil {
		tb.Fatal(err)
	}
	h := &Home{tb: tb, Dir: filepath.Join(dir, "home")}
	tb.Cleanup(func() {
		h.Stop()
		os.RemoveAll(dir)
	})
	return h
}

// Result is one finished CLI run.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs kith with args (and optional stdin) in this home, bounded to a
// minute.
func (h *Home) Run(args ...string) Result {
	return h.RunStdin(nil, args...)
}

// RunStdin is Run with stdin.
func (h *Home) RunStdin(stdin []byte, args ...string) Result {
	h.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, args...)
	cmd.Env = h.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.tb.Fatalf("running kith %v: %v", args, err)
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// MustRun runs kith and fails the test unless it exits 0.
func (h *Home) MustRun(args ...string) string {
	h.tb.Helper()
	r := h.Run(args...)
	if r.Code != 0 {
		h.tb.Fatalf("kith %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// JSON runs kith with --json appended and decodes stdout into v.
func (h *Home) JSON(v any, args ...string) {
	h.tb.Helper()
	out := h.MustRun(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		h.tb.Fatalf("kith %v --json: %v\n%s", args, err, out)
	}
}

func (h *Home) env() []string {
	env := append([]string{"KITH_HOME=" + h.Dir, "KITH_NO_MDNS=1", "HOME=" + h.Dir, "PATH=" + os.Getenv("PATH")}, h.Env...)
	for _, k := range []string{"TMPDIR", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Start runs `kith daemon` on 127.0.0.1 and waits until its API answers.
func (h *Home) Start(extra ...string) {
	h.tb.Helper()
	h.StartWith(append([]string{"--listen", "/ip4/127.0.0.1/tcp/0"}, extra...)...)
}

// StartWith runs `kith daemon` with exactly args (none: its default
// listen addresses) and waits until its API answers.
func (h *Home) StartWith(args ...string) {
	h.tb.Helper()
	h.mu.Lock()
	if h.daemon != nil {
		h.mu.Unlock()
		h.tb.Fatal("daemon already started")
	}
	cmd := exec.Command(Binary, append([]string{"daemon"}, args...)...)
	cmd.Env = h.env()
	h.stderr = &bytes.Buffer{}
	pr, pw, err := os.Pipe()
	if err != nil {
		h.tb.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		h.tb.Fatalf("starting daemon: %v", err)
	}
	pw.Close()
	done := make(chan struct{})
	h.daemon, h.done = cmd, done
	h.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			h.mu.Lock()
			h.stderr.WriteString(sc.Text() + "\n")
			h.mu.Unlock()
		}
	}()
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			h.tb.Fatalf("daemon exited early: %s", h.DaemonLog())
		default:
		}
		if _, err := os.Stat(filepath.Join(h.Dir, "api.sock")); err == nil {
			if r := h.Run("id"); r.Code == 0 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.tb.Fatalf("daemon not ready after 30s: %s", h.DaemonLog())
}

// PID returns the daemon's process ID.
func (h *Home) PID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.daemon.Process.Pid
}

// Signal sends sig to the daemon and waits up to wait for it to exit; it
// returns the exit code and how long the exit took.
func (h *Home) Signal(sig syscall.Signal, wait time.Duration) (int, time.Duration) {
	h.tb.Helper()
	h.mu.Lock()
	cmd, done := h.daemon, h.done
	h.mu.Unlock()
	if cmd == nil {
		h.tb.Fatal("no daemon running")
	}
	start := time.Now()
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(wait):
		cmd.Process.Kill()
		<-done
		h.tb.Fatalf("daemon still running %v after %v", wait, sig)
	}
	h.mu.Lock()
	h.daemon = nil
	h.mu.Unlock()
	return cmd.ProcessState.ExitCode(), time.Since(start)
}

// Stop stops the daemon, if running, with SIGTERM (SIGKILL after 10 s).
func (h *Home) Stop() {
	h.mu.Lock()
	cmd, done := h.daemon, h.done
	h.daemon = nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// DaemonLog returns what the daemon printed so far.
func (h *Home) DaemonLog() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stderr == nil {
		return ""
	}
	return h.stderr.String()
}
