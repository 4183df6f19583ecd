package node

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/kith-p2p/kith/node/connect"
	"github.com/kith-p2p/kith/node/freebusy"
	"github.com/kith-p2p/kith/node/logsync"
)

// MDNSService is the mDNS service name Kith nodes announce on the LAN.
const MDNSService = "kith"

// Resource limits sized for a phone: 256 MiB of memory and 256 file
// descriptors for libp2p, whatever the machine has. Inbound connections:
// 128 in all (libp2p's scaling gives 80), of which strangers hold at most
// the guard's MaxStrangers (32): the rest is my connections' own.
const (
	rcmgrMemory       = 256 << 20
	rcmgrFDs          = 256
	rcmgrConnsInbound = 128
)

// The connection manager trims unprotected connections (strangers, DHT
// peers) from connmgrHigh down to connmgrLow, those opened within
// connmgrGrace last; my connections are protected (connect.ProtectTag).
const (
	connmgrLow   = 64
	connmgrHigh  = 160
	connmgrGrace = 20 * time.Second
)

// startHost creates the libp2p host: TCP + QUIC, Noise, yamux, the
// resource manager, AutoNAT v2, relay v2 client and hole punching (DCUtR),
// the Kademlia DHT for peer routing, and mDNS when asked.
func (n *Node) startHost(c *config) error {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	setServiceLimits(&limits)
	scaled := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{ConnsInbound: rcmgrConnsInbound, Conns: rcmgr.LimitVal(rcmgrConnsInbound + 128)},
	}.Build(limits.Scale(rcmgrMemory, rcmgrFDs))
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(scaled))
	if err != nil {
		return fmt.Errorf("resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(connmgrLow, connmgrHigh, connmgr.WithGracePeriod(connmgrGrace))
	if err != nil {
		rm.Close()
		return fmt.Errorf("connection manager: %w", err)
	}
	guard := connect.NewGuard(n.isMine, c.tuning.guard, n.log.With("service", "guard"))
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
		libp2p.ConnectionManager(cm),
		libp2p.ConnectionGater(guard),
		libp2p.UserAgent("kith/" + Version),
		libp2p.DisableMetrics(),
		libp2p.EnableRelay(),
		// Relay for others only while AutoNAT finds this node public (a
		// home server, say), with libp2p's small default limits.
		libp2p.EnableRelayService(),
		// Behind a NAT, hold a reservation on a relay: the static ones,
		// then online connections that run a relay service.
		libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates(relays),
			autorelay.WithMinCandidates(1), autorelay.WithBootDelay(c.tuning.relayBootDelay), autorelay.WithBackoff(c.tuning.relayBackoff)),
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
		cm.Close()
		return fmt.Errorf("starting libp2p host on %v: %w", c.listen, err)
	}
	n.host = h
	n.closers = append(n.closers, h.Close)
	guard.Attach(h, cm)
	n.guard = guard
	n.closers = append(n.closers, guard.Close)
	if kad != nil {
		n.routing = kad
		n.closers = append(n.closers, kad.Close)
	}
	if c.mdns {
		svc := mdns.NewMdnsService(h, MDNSService, lanPeers{n})
		if err := svc.Start(); err != nil {
			n.log.Warn("mDNS off", "err", err)
		} else {
			n.closers = append(n.closers, svc.Close)
		}
	}
	return nil
}

// isMine reports whether p is one of mine, to let in past strangers: a
// connection, or a peer I asked to connect (its answer may come on a
// connection it opens). A store failure counts as a stranger.
func (n *Node) isMine(ctx context.Context, p peer.ID) bool {
	if ok, err := n.book.IsConnection(ctx, p); ok && err == nil {
		return true
	}
	r, err := n.store.GetRequest(ctx, p)
	return err == nil && r.Outgoing
}

// setServiceLimits bounds the streams of the Kith services, in all and per
// peer: a peer has at most a pull, an announcement and a serve of each
// direction in flight, and a handful of connect exchanges.
func setServiceLimits(l *rcmgr.ScalingLimitConfig) {
	for _, s := range []struct {
		name         string
		total, peer  int
		memory, more int64
	}{
		{logsync.ServiceName, 256, 8, 64 << 20, 16 << 20},
		{connect.ServiceName, 64, 4, 4 << 20, 1 << 20},
		{freebusy.ServiceName, 32, 2, 2 << 20, 1 << 20},
	} {
		l.AddServiceLimit(s.name,
			rcmgr.BaseLimit{StreamsInbound: s.total, StreamsOutbound: s.total, Streams: 2 * s.total, Memory: s.memory},
			rcmgr.BaseLimitIncrease{StreamsInbound: s.total, StreamsOutbound: s.total, Streams: 2 * s.total, Memory: s.more})
		l.AddServicePeerLimit(s.name,
			rcmgr.BaseLimit{StreamsInbound: s.peer, StreamsOutbound: s.peer, Streams: 2 * s.peer, Memory: s.more},
			rcmgr.BaseLimitIncrease{})
	}
}

// relayCandidates feeds autorelay: the static relays, then my online
// connections (autorelay keeps those that run a relay service).
func (n *Node) relayCandidates(static []peer.AddrInfo) autorelay.PeerSource {
	return func(ctx context.Context, num int) <-chan peer.AddrInfo {
		// Filled at once (no goroutine to outlive Close): a buffered
		// channel of num, then closed.
		cands := append([]peer.AddrInfo{}, static...)
		select {
		case <-n.ready:
			cs, _ := n.connect.Load().Active(ctx)
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
