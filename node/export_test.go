package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node/logsync"
)

// Tuning is the node's tuning, for tests to change through WithTuning.
type Tuning = tuning

// WithTuning changes the node's limits and timers (tests only).
func WithTuning(f func(*Tuning)) Option {
	return func(c *config) error { f(&c.tuning); return nil }
}

// FastTimers shortens the timers of a node on a mocknet or loopback
// (NewTest applies it).
func FastTimers(t *Tuning) { fastTimers(t) }

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

// AppendCard writes circle's card as it is, sealed to n and to, unchecked:
// what a hostile or buggy friend's node could send.
func (n *Node) AppendCard(ctx context.Context, circle string, card graph.Card, to ...*Node) error {
	readers := []graph.Reader{{ID: n.id.PeerID(), EncKey: n.id.EncryptionKey()}}
	for _, o := range to {
		readers = append(readers, graph.Reader{ID: o.id.PeerID(), EncKey: o.id.EncryptionKey()})
	}
	_, err := n.writer.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: circle, Card: &card}, To: graph.Audience{Readers: readers}})
	return err
}

// SetRequestLimits sets the incoming request limits: in all, per source
// address, and how long one is kept.
func (t *Tuning) SetRequestLimits(max, perSource int, ttl time.Duration) {
	t.connect.MaxPendingIn, t.connect.MaxPendingPerSource, t.connect.RequestTTL = max, perSource, ttl
}

// SetQuota sets the storage quota of each other author's log.
func (t *Tuning) SetQuota(entries, bytes int64) {
	t.sync.Quota = logsync.Quota{Entries: entries, Bytes: bytes}
}

// SetGuard sets the bounds on strangers' inbound connections.
func (t *Tuning) SetGuard(maxStrangers int, grace, idle time.Duration) {
	t.guard.MaxStrangers, t.guard.StrangerGrace, t.guard.StrangerIdle = maxStrangers, grace, idle
}

// Strangers returns how many strangers hold inbound connections to n.
func (n *Node) Strangers() int { return n.guard.Strangers() }
