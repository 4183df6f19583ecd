package node

import (
	"context"
	"testing"
	"time"

	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// NewTest returns a running node for tests: a deterministic identity from
// label, a test store (checked at cleanup), no listen addresses, and
// timers for a mocknet or loopback, where a peer answers in microseconds
// or not at all (opts may change them).
func NewTest(tb testing.TB, label string, opts ...Option) *Node {
	tb.Helper()
	id := identity.NewTest(tb, label)
	st := store.NewTest(tb, book.Index{})
	if err := bootstrap(context.Background(), id, st, make([]byte, 32)); err != nil {
		tb.Fatalf("bootstrapping test node: %v", err)
	}
	fast := func(c *config) error { fastTimers(&c.tuning); return nil }
	n, err := New(context.Background(), append([]Option{WithIdentity(id), WithStore(st), fast}, opts...)...)
	if err != nil {
		tb.Fatalf("starting test node: %v", err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("closing node: %v", err)
		}
	})
	return n
}

// fastTimers shortens the timers for tests.
func fastTimers(t *tuning) {
	t.reconnectTick = 100 * time.Millisecond
	t.backoffMin = 100 * time.Millisecond
	t.backoffMax = time.Second
	t.sync.IdleTimeout = 3 * time.Second
	t.connect.Timeout = 5 * time.Second
	t.connect.RepeatAfter = 300 * time.Millisecond
	t.sweepEvery = 200 * time.Millisecond
	t.writeHold = 2 * time.Second
}
