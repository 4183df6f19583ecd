package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// Tuning is the node's tuning, for tests to change through WithTuning.
type Tuning = tuning

// WithTuning changes the node's limits and timers (tests only).
func WithTuning(f func(*Tuning)) Option {
	return func(c *config) error { f(&c.tuning); return nil }
}

// FastTimers shortens the timers of a node on a mocknet or loopback, where
// a peer answers in microseconds or not at all.
func FastTimers(t *Tuning) {
	t.reconnectTick = 100 * time.Millisecond
	t.backoffMin = 100 * time.Millisecond
	t.backoffMax = time.Second
	t.sync.IdleTimeout = 3 * time.Second
	t.connect.Timeout = 5 * time.Second
	t.connect.RepeatAfter = 300 * time.Millisecond
	t.sweepEvery = 200 * time.Millisecond
}

// DaemonTimers puts back the timers FastTimers shortens, as a daemon runs
// them: for tests in a synctest bubble, where waiting costs no time.
func DaemonTimers(t *Tuning) {
	d := defaultTuning()
	t.reconnectTick, t.backoffMin, t.backoffMax = d.reconnectTick, d.backoffMin, d.backoffMax
	t.sync.IdleTimeout = d.sync.IdleTimeout
	t.connect.Timeout, t.connect.RepeatAfter = d.connect.Timeout, d.connect.RepeatAfter
	t.sweepEvery = d.sweepEvery
}

// SweptWithin is how long after a peer leaves its rate limiter has surely
// been looked at by a sweep of the redial loop.
func (n *Node) SweptWithin() time.Duration { return n.t.sweepEvery + n.t.reconnectTick }

// SyncIdleTimeout is how long a sync stream may stall before it is reset.
func (n *Node) SyncIdleTimeout() time.Duration { return n.t.sync.IdleTimeout }

// WithInboundRate lowers the flood limit (hostile-peer tests).
func WithInboundRate(r float64, burst int) Option {
	return WithTuning(func(t *Tuning) { t.inboundRate, t.inboundBurst = r, burst })
}

// WithMaxPendingIn lowers the incoming request limit.
func WithMaxPendingIn(n int) Option {
	return WithTuning(func(t *Tuning) { t.connect.MaxPendingIn = n })
}

// WithReaderVersion makes New act as a newer reader would.
func WithReaderVersion(v int) Option {
	return WithTuning(func(t *Tuning) { t.readerVersion = v })
}

// NewTest returns a running node for tests: a deterministic identity from
// label, a test store (checked at cleanup), no listen addresses, and
// FastTimers (before opts, which may change them).
func NewTest(tb testing.TB, label string, opts ...Option) *Node {
	tb.Helper()
	id := identity.NewTest(tb, label)
	st := store.NewTest(tb)
	if err := bootstrap(context.Background(), id, st, make([]byte, 32)); err != nil {
		tb.Fatalf("bootstrapping test node: %v", err)
	}
	n, err := New(context.Background(), append([]Option{WithIdentity(id), WithStore(st), WithTuning(FastTimers)}, opts...)...)
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

// FoundOnLAN hands n a peer as mDNS would when it hears one on the LAN.
func (n *Node) FoundOnLAN(ai peer.AddrInfo) { lanPeers{n}.HandlePeerFound(ai) }

// Limiters returns how many per-peer rate limiters n holds.
func (n *Node) Limiters() int { return n.inbound.Len() }

// SyncsWith reports whether n still syncs with (and redials) p.
func (n *Node) SyncsWith(p peer.ID) bool { return n.connect.Load().SyncsWith(context.Background(), p) }

// AppendContact writes a contact record as it is, as a version before
// UIDs did (without one).
func (n *Node) AppendContact(ctx context.Context, key string, card graph.Card) error {
	_, err := n.writer.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: key, Card: &card}, To: graph.Audience{Self: true}})
	return err
}
