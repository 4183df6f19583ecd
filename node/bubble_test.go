package node_test

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// In-process network tests (a mocknet: streams are in-memory pipes) run in
// a testing/synctest bubble: time there is fake and moves on only when
// every goroutine of the bubble is durably blocked, so a redial backoff, a
// sweep or a stalled peer's timeout costs no wall time, and
// synctest.Wait() tells when nothing more can happen without time
// passing. Nodes on a mocknet in a bubble run with the daemon's timers.
//
// Tests on real sockets (loopback TCP/QUIC: relay, DHT, LAN, the API over
// a unix socket, benchmarks) cannot: a goroutine blocked on the network is
// not durably blocked. They run on the wall clock, bounded, and so do two
// mocknet tests that a bubble cannot hold (TestBurstOfWritesReachesFriend,
// TestConvergence: see there).

// bubbled holds the *testing.T of every test running in a bubble.
var bubbled sync.Map

// bubbleWallLimit bounds the wall time of one bubble. A bubble's tests
// take seconds; one that runs this long is frozen (see inBubble).
const bubbleWallLimit = 2 * time.Minute

// inBubble runs f in a synctest bubble. Everything f starts must be closed
// by the end of its cleanups (which run in the bubble): synctest fails the
// test on a goroutine left blocked.
//
// A goroutine waiting for a sync.Mutex is not durably blocked: while one
// waits for a lock whose holder waits for fake time to pass (SQLite's
// busy handler sleeps, and graph.Writer and book.Book hold their lock
// across a store write), fake time never moves on and the bubble is
// frozen. synctest cannot tell that from work in progress, so a bubble
// past bubbleWallLimit of wall time ends the test binary with every
// goroutine's stack, rather than the much later go test -timeout.
//
// Under the race detector f runs on the wall clock instead (see
// raceDetector): the nodes get FastTimers and eventually polls.
func inBubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	if raceDetector {
		f(t)
		return
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(bubbleWallLimit):
			buf := make([]byte, 64<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "%s: synctest bubble still running after %v of wall time; goroutines:\n%s\n", t.Name(), bubbleWallLimit, buf)
			panic(fmt.Sprintf("%s: synctest bubble frozen or stuck for %v (a goroutine waiting for a sync.Mutex whose holder waits for fake time?)", t.Name(), bubbleWallLimit))
		}
	}()
	synctest.Test(t, func(t *testing.T) {
		bubbled.Store(t, true)
		t.Cleanup(func() { bubbled.Delete(t) }) // first registered: runs last
		f(t)
	})
}

// isBubbled reports whether t runs in a bubble (see inBubble).
func isBubbled(t testing.TB) bool {
	_, ok := bubbled.Load(t)
	return ok
}

// fakePatience is how much fake time eventually waits in a bubble: longer
// than any daemon timer a test waits on (the limiter sweep runs every
// minute, a redial backs off from 2s), and it costs nothing but the
// checks. The wall clock bounds tests outside a bubble.
const (
	fakePatience = 10 * time.Minute
	wallPatience = 20 * time.Second
)

// eventually waits until cond holds, failing the test after a while:
// fakePatience in a bubble, wallPatience outside one.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	patience := wallPatience
	if isBubbled(t) {
		patience = fakePatience
	}
	within(t, patience, what, cond)
}

// within waits until cond holds, failing the test once d has passed.
//
// In a bubble, cond is checked each time every goroutine is idle, and
// between checks fake time moves on by a step that grows from 1ms to 1s:
// what happens at once is seen at once, what waits on a timer is reached
// without waiting for it. Outside one, cond is polled on the wall clock.
func within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	if isBubbled(t) {
		for step := time.Millisecond; ; step = min(2*step, time.Second) {
			synctest.Wait()
			if cond() {
				return
			}
			if !time.Now().Before(deadline) {
				t.Fatalf("timed out waiting for %s (%v of fake time)", what, d)
			}
			time.Sleep(step)
		}
	}
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%v)", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idle waits, in a bubble, until every goroutine is durably blocked: all
// that was set off has happened, and nothing more will until time passes.
// A check that something did not happen is exact after it.
//
// Under the race detector, where bubbles cannot run (raceDetector), it
// can only give the nodes a while to settle: raceSettle, longer than
// FastTimers' every step. The runs without -race hold the exact check.
func idle(t testing.TB) {
	t.Helper()
	if raceDetector && !isBubbled(t) {
		time.Sleep(raceSettle)
		return
	}
	if !isBubbled(t) {
		t.Fatal("idle outside a synctest bubble: nothing tells when the nodes are done")
	}
	synctest.Wait()
}

// raceSettle is how long idle waits under the race detector.
const raceSettle = time.Second

// noLeaks fails t if a goroutine it started outlives it (its cleanups
// included): what a bubble checks by itself, for tests on the wall clock.
// Call it first, so that its check runs after every other cleanup.
func noLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}
