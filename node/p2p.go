package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/spec"
)

// MDNSService is the mDNS service name Kith nodes announce on the LAN.
const MDNSService = "kith"

// Resource limits sized for a phone: 256 MiB of memory and 256 file
// descriptors for libp2p, whatever the machine has.
const (
	rcmgrMemory = 256 << 20
	rcmgrFDs    = 256
)

// Reconnect backoff for offline connections.
var (
	// repeatAfter: a pending request of mine is sent again on connection
	// only if it is older than this (Connect itself has just sent a newer).
	repeatAfter = 10 * time.Second
	// sweepEvery: how often the rate limiters of gone peers are dropped.
	sweepEvery = time.Minute

	reconnectTick = 5 * time.Second
	backoffMin    = 2 * time.Second
	backoffMax    = 5 * time.Minute
)

// startHost creates the libp2p host: TCP + QUIC, Noise, yamux, the
// resource manager, AutoNAT v2, relay v2 client and hole punching (DCUtR),
// the Kademlia DHT for peer routing, and mDNS when asked.
func (n *Node) startHost(c *config) error {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.Scale(rcmgrMemory, rcmgrFDs)))
	if err != nil {
		return fmt.Errorf("resource manager: %w", err)
	}
	bootstrap, err := addrInfos("bootstrap peer", c.bootstrap)
	if err != nil {
		return err
	}
	relays, err := addrInfos("relay", c.relays)
	if err != nil {
		return err
	}
	var kad *dht.IpfsDHT
	mode := dht.ModeAuto
	if c.dhtServer {
		mode = dht.ModeServer
	}
	opts := []libp2p.Option{
		libp2p.Identity(n.id.PrivKey()),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.UserAgent("kith/" + Version),
		libp2p.DisableMetrics(),
		libp2p.EnableRelay(),
		// Relay for others only while AutoNAT finds this node public (a
		// home server, say), with libp2p's small default limits.
		libp2p.EnableRelayService(),
		// Behind a NAT, hold a reservation on a relay: the static ones,
		// then online connections that run a relay service.
		libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates(relays),
			autorelay.WithMinCandidates(1), autorelay.WithBootDelay(relayBootDelay), autorelay.WithBackoff(relayBackoff)),
		libp2p.EnableHolePunching(),
		libp2p.EnableAutoNATv2(),
		libp2p.Routing(func(h host.Host) (routing.PeerRouting, error) {
			var err error
			kad, err = dht.New(h, dht.Mode(mode), dht.BootstrapPeers(bootstrap...))
			return kad, err
		}),
	}
	switch c.reachability {
	case network.ReachabilityPublic:
		opts = append(opts, libp2p.ForceReachabilityPublic())
	case network.ReachabilityPrivate:
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	if len(c.listen) == 0 {
		opts = append(opts, libp2p.NoListenAddrs)
	} else {
		opts = append(opts, libp2p.ListenAddrStrings(c.listen...))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		return fmt.Errorf("starting libp2p host on %v: %w", c.listen, err)
	}
	n.host = h
	n.closers = append(n.closers, h.Close)
	if kad != nil {
		n.routing = kad
		n.closers = append(n.closers, kad.Close)
	}
	if c.mdns {
		svc := mdns.NewMdnsService(h, MDNSService, mdnsNotifee{n})
		if err := svc.Start(); err != nil {
			n.log.Warn("mDNS off", "err", err)
		} else {
			n.closers = append(n.closers, svc.Close)
		}
	}
	return nil
}

// Relay tuning: how long autorelay waits for candidates before it makes do
// with fewer, and how long it leaves a relay that failed.
var (
	relayBootDelay = 20 * time.Second
	relayBackoff   = 5 * time.Minute
)

// relayCandidates feeds autorelay: the static relays, then my online
// connections (autorelay keeps those that run a relay service).
func (n *Node) relayCandidates(static []peer.AddrInfo) autorelay.PeerSource {
	return func(ctx context.Context, num int) <-chan peer.AddrInfo {
		// Filled at once (no goroutine to outlive Close): a buffered
		// channel of num, then closed.
		cands := append([]peer.AddrInfo{}, static...)
		select {
		case <-n.ready:
			cs, _ := n.activeConnections(ctx)
			for _, p := range cs {
				if n.host.Network().Connectedness(p) == network.Connected {
					cands = append(cands, peer.AddrInfo{ID: p, Addrs: n.host.Peerstore().Addrs(p)})
				}
			}
		default: // still starting: the static relays only
		}
		cands = cands[:min(num, len(cands))]
		out := make(chan peer.AddrInfo, len(cands))
		for _, ai := range cands {
			out <- ai
		}
		close(out)
		return out
	}
}

// addrInfos parses full multiaddrs (ending in /p2p/<peer id>) of what.
func addrInfos(what string, addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range addrs {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w (want a multiaddr ending in /p2p/<peer id>)", what, s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}

type mdnsNotifee struct{ n *Node }

// HandlePeerFound remembers a LAN peer's addresses; a connection found
// this way is dialled (and synced) at once, and so is any Kith node while
// my log is to be restored (only a connection of mine serves it).
func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	n := m.n
	if ai.ID == n.id.PeerID() {
		return
	}
	n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.AddressTTL)
	if (n.syncsWith(n.sync.ctx, ai.ID) || n.restoring()) && n.host.Network().Connectedness(ai.ID) != network.Connected {
		n.sync.goTracked(func() {
			ctx, cancel := context.WithTimeout(n.sync.ctx, connectTimeout)
			defer cancel()
			n.host.Connect(ctx, ai)
		})
	}
}

// startP2P registers the protocols and starts the background work: syncing
// with connections as they come online and redialling offline ones.
func (n *Node) startP2P(ctx context.Context) {
	n.sync = newSyncer(n)
	n.host.SetStreamHandler(spec.ProtoSync, n.handleSync)
	n.host.SetStreamHandler(spec.ProtoConnect, n.handleConnect)
	notifiee := &network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			p := c.RemotePeer()
			n.sync.goTracked(func() { n.onPeerConnected(p) })
		},
		DisconnectedF: func(nw network.Network, c network.Conn) {
			if p := c.RemotePeer(); !n.online(p) {
				n.sync.forget(p)
			}
		},
	}
	n.host.Network().Notify(notifiee)
	// Remember where connections were last seen.
	if cs, err := n.connections(ctx); err == nil {
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
	n.sync.goTracked(n.reconnectLoop)
	n.closers = append(n.closers, func() error {
		n.host.Network().StopNotify(notifiee)
		n.host.RemoveStreamHandler(spec.ProtoSync)
		n.host.RemoveStreamHandler(spec.ProtoConnect)
		n.sync.close()
		return nil
	})
}

// onPeerConnected syncs with a connection, and repeats my pending request
// to a peer I asked (its answer may have been lost while I was offline).
func (n *Node) onPeerConnected(p peer.ID) {
	ctx := n.sync.ctx
	if n.restoring() || n.isConnection(ctx, p) {
		if !n.droppedBy(p) {
			n.sync.schedule(p)
		}
		return
	}
	if n.sync.isAsking(p) {
		return // Connect is sending it right now
	}
	req, err := n.store.GetRequest(ctx, p)
	if err != nil || !req.Outgoing || n.now().Sub(req.Time) < repeatAfter {
		return // none, or Connect has just sent it
	}
	status, err := n.sendConnect(ctx, p, "", req.Note, nil)
	switch {
	case err != nil:
	case status == spec.ConnectAccepted:
		if err := n.establish(ctx, p, req.Circles); err == nil {
			n.sync.schedule(p)
		}
	case status == spec.ConnectDeclined:
		n.store.DeleteRequest(ctx, p)
	}
}

// reconnectLoop redials offline connections with exponential backoff, and
// every resyncEvery pulls from the online ones.
func (n *Node) reconnectLoop() {
	ctx := n.sync.ctx
	next := map[peer.ID]time.Time{}
	wait := map[peer.ID]time.Duration{}
	t := time.NewTicker(reconnectTick)
	defer t.Stop()
	lastResync, lastSweep := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cs, err := n.activeConnections(ctx) // not those that disconnected me
		if err != nil {
			continue
		}
		now := time.Now()
		resync := now.Sub(lastResync) >= resyncEvery
		if resync {
			lastResync = now
		}
		if now.Sub(lastSweep) >= sweepEvery {
			lastSweep = now
			n.sync.sweep(n.online)
		}
		for _, p := range cs {
			if n.online(p) { // relayed counts: hole punching upgrades it if it can
				delete(wait, p)
				delete(next, p)
				if resync {
					n.sync.schedule(p) // in case an announcement was lost
				}
				continue
			}
			if now.Before(next[p]) || len(n.host.Peerstore().Addrs(p)) == 0 && n.routing == nil {
				continue
			}
			d := wait[p]
			if d == 0 {
				d = backoffMin
			} else {
				d = min(2*d, backoffMax)
			}
			wait[p] = d
			next[p] = now.Add(d/2 + rand.N(d/2+1)) // jitter
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := n.dial(dctx, peer.AddrInfo{ID: p}); err == nil {
				delete(wait, p)
				delete(next, p)
			}
			cancel()
		}
	}
}
