package node_test

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestConnectByPeerIDThroughDHT: with nothing but a bare peer ID, a node
// finds the other's addresses through the DHT (real hosts on loopback, a
// third node as the bootstrap peer and DHT server) and sends its request.
func TestConnectByPeerIDThroughDHT(t *testing.T) {
	noLeaks(t)
	ctx := t.Context()
	loopback := node.WithListenAddrs("/ip4/127.0.0.1/tcp/0")
	boot := node.NewTest(t, "boot", loopback, node.WithDHTServer(true))
	bootAddr := boot.Host().Addrs()[0].String() + "/p2p/" + boot.Host().ID().String()

	alice := node.NewTest(t, "alice", loopback, node.WithBootstrap(bootAddr))
	bob := node.NewTest(t, "bob", loopback, node.WithBootstrap(bootAddr))
	require.Empty(t, bob.Host().Peerstore().Addrs(alice.Host().ID()), "bob must not know alice's addresses beforehand")

	// Both reach the bootstrap peer on their own (the DHT dials it when its
	// routing table is empty), and it learns alice's addresses from her.
	eventually(t, "alice and bob reach the bootstrap peer", func() bool {
		return len(boot.Host().Network().ConnsToPeer(alice.Host().ID())) > 0 &&
			len(boot.Host().Network().ConnsToPeer(bob.Host().ID())) > 0
	})

	var (
		res *api.ConnectResult
		err error
	)
	eventually(t, "bob reaches alice by her bare peer ID", func() bool {
		res, err = bob.Connect(ctx, api.ConnectRequest{Target: alice.Host().ID().String(), Note: "found you"})
		return err == nil
	})
	require.Equal(t, "pending", res.Status)
	reqs, err := alice.Requests(ctx)
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	require.Equal(t, "found you", reqs[0].Note)
}

// TestConnectByPeerIDOnLAN: a peer mDNS heard on the LAN is reachable by
// its bare peer ID.
// (mDNS itself is go-libp2p's; this drives its callback, as multicast is
// not something a test can count on.)
func TestConnectByPeerIDOnLAN(t *testing.T) {
	noLeaks(t)
	ctx := t.Context()
	loopback := node.WithListenAddrs("/ip4/127.0.0.1/tcp/0")
	alice := node.NewTest(t, "alice", loopback)
	bob := node.NewTest(t, "bob", loopback)
	_, err := bob.Connect(ctx, api.ConnectRequest{Target: alice.Host().ID().String()})
	require.ErrorIs(t, err, api.ErrUnreachable, "no addresses known yet")

	bob.FoundOnLAN(peer.AddrInfo{ID: alice.Host().ID(), Addrs: alice.Host().Addrs()})
	res, err := bob.Connect(ctx, api.ConnectRequest{Target: alice.Host().ID().String()})
	require.NoError(t, err)
	require.Equal(t, "pending", res.Status)
	require.NoError(t, alice.Accept(ctx, api.AcceptRequest{PeerID: bob.Host().ID().String()}))
	eventually(t, "bob learns he was accepted", func() bool { return hasPeer(t, bob, alice) })

}
