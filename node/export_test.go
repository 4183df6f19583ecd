package node

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Shorten timers for tests.
func init() {
	reconnectTick = 100 * time.Millisecond
	backoffMin = 100 * time.Millisecond
	backoffMax = time.Second
	syncIdleTimeout = 3 * time.Second
	connectTimeout = 5 * time.Second
	repeatAfter = 300 * time.Millisecond
	sweepEvery = 200 * time.Millisecond
}

// SetInboundRate lets hostile-peer tests lower the flood limit.
func SetInboundRate(r float64, burst int) (restore func()) {
	oldR, oldB := inboundRate, inboundBurst
	inboundRate, inboundBurst = r, burst
	return func() { inboundRate, inboundBurst = oldR, oldB }
}

// FoundOnLAN hands n a peer as mDNS would when it hears one on the LAN.
func (n *Node) FoundOnLAN(ai peer.AddrInfo) { mdnsNotifee{n}.HandlePeerFound(ai) }

// SetMaxPendingIn lowers the incoming request limit.
func SetMaxPendingIn(n int) (restore func()) {
	old := maxPendingIn
	maxPendingIn = n
	return func() { maxPendingIn = old }
}

// Limiters returns how many per-peer rate limiters n holds.
func (n *Node) Limiters() int {
	n.sync.mu.Lock()
	defer n.sync.mu.Unlock()
	return len(n.sync.limiters)
}

// SetReaderVersion makes the next New act as a newer reader would.
func SetReaderVersion(v int) (restore func()) {
	old := readerVersion
	readerVersion = v
	return func() { readerVersion = old }
}

// SyncsWith reports whether n still syncs with (and redials) p.
func (n *Node) SyncsWith(p peer.ID) bool { return n.syncsWith(n.sync.ctx, p) }
