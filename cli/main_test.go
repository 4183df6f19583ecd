package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	// The tests set what they need; a developer's own KITH_* settings must
	// not leak in.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "KITH_") {
			os.Unsetenv(k)
		}
	}
	goleak.VerifyTestMain(m)
}

// testHome returns a fresh, not yet created home directory whose API socket
// path fits the ~107-byte limit of unix sockets.
func testHome(tb testing.TB) string {
	tb.Helper()
	home := filepath.Join(tb.TempDir(), "home")
	if len(api.SocketPath(home)) > 100 {
		dir, err := os.MkdirTemp("", "kith")
		if err != nil {
			tb.Fatalf("creating a short temp dir: %v", err)
		}
		tb.Cleanup(func() { os.RemoveAll(dir) })
		home = filepath.Join(dir, "home")
	}
	return home
}

// testDaemon is a daemon running in process on a temporary home.
type testDaemon struct {
	home string
	id   api.Identity
	stop func() // stops it (idempotent; the test's cleanup calls it too)
}

// startDaemon initialises a home without a passphrase and runs a daemon on
// it, listening on loopback only, until the test ends.
func startDaemon(tb testing.TB) *testDaemon {
	tb.Helper()
	home := testHome(tb)
	if _, err := node.Init(tb.Context(), home, nil); err != nil {
		tb.Fatalf("node.Init(%s): %v", home, err)
	}
	return startDaemonOn(tb, home)
}

// startDaemonOn runs a daemon on home, listening on loopback only, until stop
// or the end of the test.
func startDaemonOn(tb testing.TB, home string) *testDaemon {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan api.Identity, 1)
	done := make(chan error, 1)
	go func() {
		done <- node.RunDaemon(ctx, node.DaemonConfig{
			Home:   home,
			Listen: []string{"/ip4/127.0.0.1/tcp/0"},
			NoMDNS: true,
			Ready:  func(id api.Identity) { ready <- id },
		})
	}()
	d := &testDaemon{home: home}
	select {
	case d.id = <-ready:
	case err := <-done:
		cancel()
		tb.Fatalf("RunDaemon returned before ready: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		tb.Fatal("daemon not ready after 30s")
	}
	d.stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("RunDaemon: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Errorf("daemon still running 10s after cancel")
		}
	})
	tb.Cleanup(d.stop)
	return d
}

// result is what one run of Main did.
type result struct {
	code           int
	stdout, stderr string
}

// kith runs the whole app in process on home with args, stdin empty.
func kith(tb testing.TB, home string, args ...string) result {
	tb.Helper()
	return kithIn(tb, home, nil, args...)
}

// kithIn is kith with stdin.
func kithIn(tb testing.TB, home string, stdin io.Reader, args ...string) result {
	tb.Helper()
	var out, errb bytes.Buffer
	code := Main(tb.Context(), append([]string{"kith", "--home", home}, args...), Stdio{In: stdin, Out: &out, Err: &errb})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// ok runs kith and fails the test unless it exits 0.
func (d *testDaemon) ok(tb testing.TB, args ...string) string {
	tb.Helper()
	r := kith(tb, d.home, args...)
	if r.code != 0 {
		tb.Fatalf("kith %s = exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// unsetenv unsets key for the rest of the test and restores it after.
func unsetenv(t *testing.T, key string) error {
	t.Setenv(key, "")
	return os.Unsetenv(key)
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decoding %T from %q: %v", v, s, err)
	}
}
