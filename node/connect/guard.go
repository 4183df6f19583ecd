package connect

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/node/internal/p2putil"
)

// upgradeWindow bounds the time from the handshake to the connection's
// arrival in the swarm: libp2p's accept timeout.
const upgradeWindow = 15 * time.Second

// ProtectTag is the connection manager tag that keeps connections to my
// connections (and to peers I asked to connect) from being trimmed.
const ProtectTag = "kith-connection"

// GuardTuning bounds what strangers (peers that are not my connections)
// may hold of a node's inbound connections.
type GuardTuning struct {
	// MaxStrangers is how many strangers may hold inbound connections at
	// once; my connections are never counted or refused.
	MaxStrangers int
	// StrangerGrace is how long a new stranger has to open a stream
	// before a newcomer may take its place when MaxStrangers are in: an
	// invitee opens /kith/connect within a round trip.
	StrangerGrace time.Duration
	// StrangerIdle is how long a stranger's inbound connection may stay
	// open with no stream (but identify's and ping's) open on it.
	StrangerIdle time.Duration
}

// DefaultGuardTuning is what a daemon runs with.
var DefaultGuardTuning = GuardTuning{
	MaxStrangers:  32,
	StrangerGrace: time.Second,
	StrangerIdle:  10 * time.Second,
}

// Guard keeps strangers from locking a node's friends out. As the host's
// connection gater it decides on each inbound connection once the
// handshake has named the peer: my connections and the peers I asked get
// in (and are protected from the connection manager's trimming); a
// stranger gets in only while fewer than MaxStrangers hold connections,
// or by taking the place of one that has opened no stream for
// StrangerGrace. A sweep closes strangers' inbound connections that have
// stayed without a stream for StrangerIdle.
//
// The guard is a node's policy: it decides on peer IDs after the handshake,
// since a friend's address changes (a phone) and the resource manager's
// allowlist knows only addresses. It is safe for concurrent use.
type Guard struct {
	known   func(ctx context.Context, p peer.ID) bool
	protect connmgr.ConnManager // may be nil
	t       GuardTuning
	now     func() time.Time
	log     *slog.Logger
	g       *p2putil.Group

	// mu guards net and strangers.
	mu  sync.Mutex
	net network.Network
	// strangers are the strangers let in.
	strangers map[peer.ID]stranger
}

// stranger is one stranger let in.
type stranger struct {
	at time.Time // when it was let in (or its oldest connection opened)
	// up: a connection of it reached the swarm. Until then it may be
	// upgrading, which a newcomer must not take for gone: closing it would
	// find nothing to close.
	up bool
}

var _ connmgr.ConnectionGater = (*Guard)(nil)

// NewGuard returns a guard; known reports whether a peer is one of mine
// (a connection, or one I asked to connect). Attach it to the host it
// gates once that runs.
func NewGuard(known func(ctx context.Context, p peer.ID) bool, t GuardTuning, log *slog.Logger) *Guard {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Guard{known: known, t: t, now: time.Now, log: log, g: p2putil.NewGroup(), strangers: map[peer.ID]stranger{}}
}

// Attach starts guarding h (whose gater g is) and protecting my
// connections in cm (nil: none): a sweep runs until Close.
func (g *Guard) Attach(h host.Host, cm connmgr.ConnManager) {
	g.mu.Lock()
	g.net, g.protect = h.Network(), cm
	g.mu.Unlock()
	h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if st, ok := g.strangers[c.RemotePeer()]; ok {
			st.up = true
			g.strangers[c.RemotePeer()] = st
		}
	}})
	g.g.Go(func() {
		tick := time.NewTicker(max(g.t.StrangerIdle/4, 10*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-g.g.Context().Done():
				return
			case <-tick.C:
				g.sweep(g.g.Context())
			}
		}
	})
}

// Close stops the sweep.
func (g *Guard) Close() error {
	g.g.Close()
	return nil
}

// Strangers returns how many strangers hold inbound connections.
func (g *Guard) Strangers() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.strangers)
}

// InterceptPeerDial lets every dial out.
func (g *Guard) InterceptPeerDial(peer.ID) bool { return true }

// InterceptAddrDial lets every dial out.
func (g *Guard) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

// InterceptAccept lets every connection reach the handshake: who it is
// is not known before.
func (g *Guard) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptUpgraded lets every connection that was secured in.
func (g *Guard) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// InterceptSecured decides on a connection whose peer the handshake named.
func (g *Guard) InterceptSecured(dir network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	ctx, cancel := context.WithTimeout(g.g.Context(), 5*time.Second)
	defer cancel()
	if g.known(ctx, p) {
		g.mu.Lock()
		delete(g.strangers, p)
		cm := g.protect
		g.mu.Unlock()
		if cm != nil {
			cm.Protect(p, ProtectTag)
		}
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.protect != nil {
		g.protect.Unprotect(p, ProtectTag) // one of mine no more (I disconnected them)
	}
	if dir != network.DirInbound {
		return true // I dialled them (the DHT, a relay, a request of mine)
	}
	now := g.now()
	if _, ok := g.strangers[p]; ok {
		return true // one more connection of a stranger let in
	}
	if len(g.strangers) >= g.t.MaxStrangers {
		victim, ok := g.idlestLocked(now)
		if !ok {
			g.log.Debug("stranger refused: strangers hold their share of connections", "peer", p, "strangers", len(g.strangers))
			return false
		}
		delete(g.strangers, victim)
		g.closeLocked(victim)
		g.log.Debug("stranger makes room", "peer", p, "closed", victim)
	}
	g.strangers[p] = stranger{at: now}
	return true
}

// idlestLocked returns the stranger let in longest ago that has had
// StrangerGrace to open a stream and has none open.
func (g *Guard) idlestLocked(now time.Time) (peer.ID, bool) {
	var (
		best peer.ID
		at   time.Time
	)
	for p, st := range g.strangers {
		if now.Sub(st.at) < g.t.StrangerGrace || !st.up && now.Sub(st.at) < upgradeWindow || g.activeLocked(p, false) {
			continue
		}
		if best == "" || st.at.Before(at) {
			best, at = p, st.at
		}
	}
	return best, best != ""
}

// ignored are the protocols that every libp2p host runs on a connection
// by itself: a stream of theirs is no sign of use.
var ignored = []protocol.ID{identify.ID, identify.IDPush, ping.ID}

// reservationTag is the tag the relay service (circuit v2) puts on a peer
// holding a reservation on this node.
const reservationTag = "relay-reservation"

// activeLocked reports whether p has a stream open (but identify's and
// ping's) on a connection, or, with reserved, holds a relay reservation
// here (its connection stays open without streams, for the circuits to
// come). A reservation keeps a stranger from the idle sweep, not from
// making room for a newcomer: 32 reservations must not lock invitees out.
func (g *Guard) activeLocked(p peer.ID, reserved bool) bool {
	if g.net == nil {
		return false
	}
	if reserved && g.protect != nil {
		if ti := g.protect.GetTagInfo(p); ti != nil && ti.Tags[reservationTag] > 0 {
			return true
		}
	}
	for _, c := range g.net.ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if pr := s.Protocol(); pr != "" && !slices.Contains(ignored, pr) {
				return true
			}
		}
	}
	return false
}

// closeLocked closes p's inbound connections, in the background (not in
// the swarm's callback).
func (g *Guard) closeLocked(p peer.ID) {
	n := g.net
	if n == nil {
		return
	}
	g.g.Go(func() {
		for _, c := range n.ConnsToPeer(p) {
			if c.Stat().Direction == network.DirInbound {
				c.Close()
			}
		}
	})
}

// sweep closes the strangers that have been idle for StrangerIdle, and
// forgets those that left or became mine. It first takes in every inbound
// connection of a peer that is neither protected nor counted: one whose
// upgrade finished after an earlier sweep forgot it, say.
func (g *Guard) sweep(ctx context.Context) {
	g.mu.Lock()
	n, cm := g.net, g.protect
	seen := map[peer.ID]time.Time{} // inbound connections' peers, by the oldest connection
	if n != nil {
		for _, c := range n.Conns() {
			p := c.RemotePeer()
			if c.Stat().Direction != network.DirInbound || cm != nil && cm.IsProtected(p, ProtectTag) {
				continue
			}
			if t, ok := seen[p]; !ok || c.Stat().Opened.Before(t) {
				seen[p] = c.Stat().Opened
			}
		}
	}
	ps := make([]peer.ID, 0, len(g.strangers)+len(seen))
	for p := range g.strangers {
		ps = append(ps, p)
	}
	for p := range seen {
		if _, ok := g.strangers[p]; !ok {
			ps = append(ps, p)
		}
	}
	g.mu.Unlock()
	mine := map[peer.ID]bool{}
	for _, p := range ps {
		mine[p] = g.known(ctx, p) // outside the lock: it reads the store
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	closed := 0
	for _, p := range ps {
		st, ok := g.strangers[p]
		if opened, inbound := seen[p]; inbound && (!ok || !st.up || opened.Before(st.at)) {
			at := st.at
			if !ok || opened.Before(at) {
				at = opened
			}
			st, ok = stranger{at: at, up: true}, true
			if !mine[p] {
				g.strangers[p] = st
			}
		}
		t := st.at
		switch {
		case !ok:
		case mine[p]:
			delete(g.strangers, p) // an invitee, now a connection
			if g.protect != nil {
				g.protect.Protect(p, ProtectTag)
			}
		case g.net != nil && len(g.net.ConnsToPeer(p)) == 0 && now.Sub(t) > upgradeWindow:
			// Gone, or never past the upgrade. (Earlier, its connection
			// may still be on its way to the swarm; until then it can be
			// displaced, having no stream.)
			delete(g.strangers, p)
		case now.Sub(t) >= g.t.StrangerIdle && !g.activeLocked(p, true):
			delete(g.strangers, p)
			g.closeLocked(p)
			closed++
		}
	}
	if closed > 0 {
		g.log.Debug("closed idle strangers' connections", "peers", closed, "idle", g.t.StrangerIdle)
	}
}
