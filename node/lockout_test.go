package node_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// idleHosts starts n libp2p hosts on loopback that only connect to target
// and then sit there: strangers holding connections open.
func idleHosts(t *testing.T, n int, target peer.AddrInfo) []host.Host {
	t.Helper()
	hs := make([]host.Host, n)
	var wg sync.WaitGroup
	for i := range hs {
		h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.Transport(tcp.NewTCPTransport), libp2p.Security(noise.ID, noise.New),
			libp2p.ResourceManager(&network.NullResourceManager{}), libp2p.DisableRelay(), libp2p.DisableMetrics())
		require.NoError(t, err)
		t.Cleanup(func() { h.Close() })
		hs[i] = h
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			h.Connect(ctx, target) // some may be refused: that is the point
		})
	}
	wg.Wait()
	return hs
}

// connected counts the hosts that hold a connection to p.
func connected(hs []host.Host, p peer.ID) int {
	n := 0
	for _, h := range hs {
		if h.Network().Connectedness(p) == network.Connected {
			n++
		}
	}
	return n
}

// TestInboundLockout: a hundred and sixty strangers (more than the resource manager lets in) connect to alice and
// sit idle. Her friend bob still reaches her and syncs, carol still uses
// an invite, and the idle strangers are closed.
func TestInboundLockout(t *testing.T) {
	ctx := t.Context()
	loopback := node.WithListenAddrs("/ip4/127.0.0.1/tcp/0")
	guard := node.WithTuning(func(t *node.Tuning) { t.SetGuard(32, 100*time.Millisecond, 5*time.Second) })
	alice := node.NewTest(t, "alice", loopback, guard)
	bob := node.NewTest(t, "bob", loopback)
	carol := node.NewTest(t, "carol", loopback)
	aliceInfo := peer.AddrInfo{ID: alice.Host().ID(), Addrs: alice.Host().Addrs()}
	connect(t, alice, bob, "friends")
	inv, err := alice.Invite(ctx, api.InviteRequest{Circles: []string{"friends"}})
	require.NoError(t, err)
	require.NoError(t, bob.Close()) // bob's laptop is closed

	strangers := idleHosts(t, 160, aliceInfo)
	held := connected(strangers, alice.Host().ID())
	t.Logf("%d of %d idle strangers connected", held, len(strangers))
	// Those displaced by newcomers are closed in the background.
	within(t, 10*time.Second, "strangers hold at most their share of alice's connections", func() bool {
		return len(alice.Host().Network().Conns()) <= 32
	})

	// bob's node starts again (a laptop opened) and dials alice, past the
	// strangers.
	start := time.Now()
	bob = node.NewTest(t, "bob", node.WithStore(bob.Store()), loopback)
	within(t, 15*time.Second, "bob reaches alice again", func() bool {
		return alice.Host().Network().Connectedness(bob.Host().ID()) == network.Connected
	})
	_, err = alice.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice Held-Up"}, Circles: []string{"friends"}})
	require.NoError(t, err)
	eventually(t, "bob syncs alice's change", func() bool { return head(t, bob, alice) == head(t, alice, alice) })
	t.Logf("bob reconnected and synced in %v", time.Since(start))

	res, err := carol.Connect(ctx, api.ConnectRequest{Target: inv.Code})
	require.NoError(t, err, "carol uses her invite past the strangers")
	require.Equal(t, "accepted", res.Status)
	eventually(t, "carol is alice's connection", func() bool { return hasPeer(t, alice, carol) })

	within(t, 30*time.Second, "alice closes the idle strangers", func() bool {
		return connected(strangers, alice.Host().ID()) == 0
	})
	require.Equal(t, network.Connected, alice.Host().Network().Connectedness(bob.Host().ID()), "bob stays")
}
