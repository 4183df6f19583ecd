package node_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestReachableThroughRelay: a node that cannot be dialled (it listens on
// nothing, as a phone behind a NAT is unreachable) holds a reservation on
// a friend's node that relays (it is public, so its relay service runs); a
// third node connects to it through the relay by a /p2p-circuit address,
// and cards flow over the relayed (limited) connection.
//
// The reservation is made by hand: autorelay, which makes it in the
// daemon, only relays through public addresses, and loopback is not one.
func TestReachableThroughRelay(t *testing.T) {
	noLeaks(t)
	ctx := t.Context()
	relay := node.NewTest(t, "relay", node.WithListenAddrs("/ip4/127.0.0.1/tcp/0"), node.WithReachability(network.ReachabilityPublic))
	relayInfo := peer.AddrInfo{ID: relay.Host().ID(), Addrs: relay.Host().Addrs()}
	phone := node.NewTest(t, "phone", node.WithReachability(network.ReachabilityPrivate))
	laptop := node.NewTest(t, "laptop", node.WithListenAddrs("/ip4/127.0.0.1/tcp/0"))
	for _, a := range phone.Host().Network().ListenAddresses() {
		require.Equal(t, "/p2p-circuit", a.String(), "the phone must not be directly dialable")
	}

	require.NoError(t, phone.Host().Connect(ctx, relayInfo))
	eventually(t, "the relay's service is up", func() bool {
		_, err := client.Reserve(ctx, phone.Host(), relayInfo)
		return err == nil
	})
	circuit := relayInfo.Addrs[0].String() + "/p2p/" + relay.Host().ID().String() + "/p2p-circuit/p2p/" + phone.Host().ID().String()
	res, err := laptop.Connect(ctx, api.ConnectRequest{Target: circuit, Note: "via the relay"})
	require.NoError(t, err)
	require.Equal(t, "pending", res.Status)
	conns := laptop.Host().Network().ConnsToPeer(phone.Host().ID())
	require.NotEmpty(t, conns)
	require.True(t, slices.ContainsFunc(conns, func(c network.Conn) bool { return strings.Contains(c.RemoteMultiaddr().String(), "/p2p-circuit") }),
		"the laptop reached the phone through the relay")

	require.NoError(t, phone.Accept(ctx, api.AcceptRequest{PeerID: laptop.Host().ID().String()}))
	eventually(t, "the laptop learns it was accepted", func() bool { return hasPeer(t, laptop, phone) })
	_, err = phone.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Pat on a phone"}, Circles: []string{"friends"}})
	require.NoError(t, err)
	eventually(t, "the laptop gets the phone's card over the relay", func() bool {
		return slices.Equal(seen(t, laptop, phone, "fn"), []string{"Pat on a phone"})
	})
}
