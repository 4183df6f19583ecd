package cli

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestDaemonPortInUse: a second daemon asked to listen on the port of a
// running one refuses to start (libp2p's SO_REUSEPORT would let it share
// the port and take some of the first one's connections) and says which
// port and how to pick another.
func TestDaemonPortInUse(t *testing.T) {
	first := startDaemon(t)
	addr, _, _ := strings.Cut(first.id.Addrs[0].String(), "/p2p/") // /ip4/127.0.0.1/tcp/PORT
	port := addr[strings.LastIndex(addr, "/")+1:]
	home := testHome(t)
	if r := kith(t, home, "init", "--no-passphrase"); r.code != exitOK {
		t.Fatalf("kith init = exit %d: %s", r.code, r.stderr)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"kith", "--home", home, "daemon", "--listen", addr, "--no-mdns"}, Stdio{Out: &syncBuffer{}, Err: &stderr})
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case code := <-done:
			if code != exitPortInUse {
				t.Errorf("second daemon on port %s = exit %d, want %d; stderr: %s", port, code, exitPortInUse, stderr.String())
			}
			for _, w := range []string{"port " + port, "--listen", "KITH_LISTEN"} {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("second daemon's error %q does not say %q", stderr.String(), w)
				}
			}
			return
		case <-deadline:
			cancel()
			<-done
			t.Fatal("second daemon neither failed nor got ready in 30s")
		case <-time.After(20 * time.Millisecond):
		}
		if strings.Contains(stderr.String(), "ready") {
			cancel()
			<-done
			t.Fatalf("a second daemon started on port %s, held by the first:\n%s", port, stderr.String())
		}
	}
}
