package node_test

import (
	"github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
)

// addAt is add with the node's address given: several nodes behind one
// address (a NAT) share it.
func (tn *testNet) addAt(label, addr string, opts ...node.Option) *node.Node {
	tn.t.Helper()
	id := identity.NewTest(tn.t, label)
	h, err := tn.mn.AddPeer(id.PrivKey(), multiaddr.StringCast(addr))
	require.NoError(tn.t, err)
	require.NoError(tn.t, tn.mn.LinkAll())
	return node.NewTest(tn.t, label, append([]node.Option{node.WithHost(h), node.WithTuning(tn.timers)}, opts...)...)
}
