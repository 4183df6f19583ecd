package node

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/node/internal/p2putil"
)

// The node's own background work: reaching my connections. A connection
// that comes online is synced with; one offline is redialled with backoff;
// a peer mDNS hears on the LAN is dialled if it is one of mine.

// startRedial remembers where connections were last seen, follows peers
// coming and going, and starts the redial loop.
func (n *Node) startRedial(ctx context.Context) {
	if cs, err := n.book.Connections(ctx); err == nil {
		for _, p := range cs {
			if pi, err := n.store.PeerInfo(ctx, p); err == nil {
				for _, s := range pi.Addrs {
					if a, err := ma.NewMultiaddr(s); err == nil {
						n.host.Peerstore().AddAddr(p, a, peerstore.PermanentAddrTTL)
					}
				}
			}
		}
	}
	notifiee := &network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			p := c.RemotePeer()
			n.bg.Go(func() { n.onPeerConnected(p) })
		},
		DisconnectedF: func(nw network.Network, c network.Conn) {
			if p := c.RemotePeer(); !n.online(p) {
				n.inbound.Forget(p)
			}
		},
	}
	n.host.Network().Notify(notifiee)
	n.closers = append(n.closers, func() error { n.host.Network().StopNotify(notifiee); return nil })
	n.bg.Go(n.learnHead)
	n.bg.Go(n.resealCards)
	n.bg.Go(n.redialLoop)
}

// learnHead holds my writes until a connection has told me its view of my
// log's head (its pull completes: logWriter.Learnt), so that a store
// restored from an old copy does not write over entries friends hold. It
// dials every connection at once; the hold ends when one pull completes,
// when no connection could be reached, or after writeHold, whichever is
// first. A node without connections writes at once.
func (n *Node) learnHead() {
	ctx := n.bg.Context()
	cs := n.connect.Load()
	active, err := cs.Active(ctx)
	if err != nil || len(active) == 0 {
		n.writer.release("no connection to learn my head from", false)
		return
	}
	t := time.NewTimer(n.t.writeHold)
	defer t.Stop()
	reached := make(chan bool, len(active))
	for _, p := range active {
		n.bg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, n.t.dialTimeout)
			defer cancel()
			reached <- n.online(p) || cs.Dial(dctx, peer.AddrInfo{ID: p}) == nil
			if n.online(p) {
				n.sync.Schedule(p) // its completion ends the hold
			}
		})
	}
	reachedAny := false
	for range active {
		select {
		case ok := <-reached:
			reachedAny = reachedAny || ok
			continue
		case <-n.writer.held:
			return
		case <-t.C:
			n.writer.release("no connection told my head in time", true)
			return
		case <-ctx.Done():
			return
		}
	}
	if !reachedAny {
		n.writer.release("no connection reachable", true)
		return
	}
	select {
	case <-n.writer.held:
	case <-t.C:
		n.writer.release("no connection told my head in time", true)
	case <-ctx.Done():
	}
}

// online reports whether p can be reached now.
func (n *Node) online(p peer.ID) bool { return p2putil.Online(n.host.Network(), p) }

// onPeerConnected syncs with a connection, and repeats my pending request
// to a peer I asked (its answer may have been lost while I was offline).
func (n *Node) onPeerConnected(p peer.ID) {
	ctx := n.bg.Context()
	cs := n.connect.Load()
	if n.writer.restoring() {
		n.sync.Schedule(p) // any peer may hold my log
		return
	}
	if ok, err := n.book.IsConnection(ctx, p); err != nil || ok {
		if cs.SyncsWith(ctx, p) {
			n.sync.Schedule(p)
		}
		return
	}
	cs.RepeatRequest(p)
}

// redialLoop redials offline connections with exponential backoff, and
// every resyncEvery pulls from the online ones.
func (n *Node) redialLoop() {
	ctx := n.bg.Context()
	cs := n.connect.Load()
	next := map[peer.ID]time.Time{}
	wait := map[peer.ID]time.Duration{}
	t := time.NewTicker(n.t.reconnectTick)
	defer t.Stop()
	lastResync, lastSweep := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		active, err := cs.Active(ctx) // not those that disconnected me
		if err != nil {
			continue
		}
		now := time.Now()
		resync := now.Sub(lastResync) >= n.t.resyncEvery
		if resync {
			lastResync = now
		}
		if now.Sub(lastSweep) >= n.t.sweepEvery {
			lastSweep = now
			n.inbound.Sweep(n.online)
		}
		for _, p := range active {
			if n.online(p) { // relayed counts: hole punching upgrades it if it can
				delete(wait, p)
				delete(next, p)
				if resync {
					n.sync.Schedule(p) // in case an announcement was lost
				}
				continue
			}
			if now.Before(next[p]) || len(n.host.Peerstore().Addrs(p)) == 0 && n.routing == nil {
				continue
			}
			d := wait[p]
			if d == 0 {
				d = n.t.backoffMin
			} else {
				d = min(2*d, n.t.backoffMax)
			}
			wait[p] = d
			next[p] = now.Add(d/2 + rand.N(d/2+1)) // jitter
			dctx, cancel := context.WithTimeout(ctx, n.t.dialTimeout)
			if err := cs.Dial(dctx, peer.AddrInfo{ID: p}); err == nil {
				delete(wait, p)
				delete(next, p)
			}
			cancel()
		}
	}
}

// lanPeers hears of peers on the LAN (mDNS).
type lanPeers struct{ n *Node }

// HandlePeerFound remembers a LAN peer's addresses; a connection found
// this way is dialled (and synced) at once, and so is any Kith node while
// my log is to be restored (only a connection of mine serves it).
func (l lanPeers) HandlePeerFound(ai peer.AddrInfo) {
	n := l.n
	if ai.ID == n.id.PeerID() {
		return
	}
	n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.AddressTTL)
	cs := n.connect.Load()
	if cs == nil {
		return // still starting; the redial loop finds it
	}
	if (n.writer.restoring() || cs.SyncsWith(n.bg.Context(), ai.ID)) && n.host.Network().Connectedness(ai.ID) != network.Connected {
		n.bg.Go(func() {
			ctx, cancel := context.WithTimeout(n.bg.Context(), n.t.dialTimeout)
			defer cancel()
			if err := n.host.Connect(ctx, ai); err != nil {
				n.log.Debug("dialling a peer found on the LAN", "peer", ai.ID, "err", err)
			}
		})
	}
}
