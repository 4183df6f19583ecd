package node_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node/api"
)

// TestBlindDivergenceTakenBack: alice's store went back to an old backup
// and, with bob unreachable, she wrote as many entries as bob holds past
// the backup (equal lengths), or more. Those writes were blind: no
// connection had told her her head. When they meet, her node takes bob's
// history back and appends her records again on top, whatever the
// lengths; bob records no fork and sees everything she wrote.
func TestBlindDivergenceTakenBack(t *testing.T) {
	for _, extra := range []int{0, 2} {
		t.Run(fmt.Sprintf("alice %d entries longer", extra), func(t *testing.T) {
			ctx := t.Context()
			bn := newBKNet(t)
			alice, bob := bn.add("alice"), bn.add("bob")
			a, b := alice.Host().ID(), bob.Host().ID()
			bkConnect(t, alice, bob)
			bkEventually(t, "bob holds alice's log", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
			backup := bkCopyStore(t, alice)
			bkAddThree(t, alice)
			bkEventually(t, "bob holds the three contacts' entries", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
			held := bkHead(t, bob, a)

			h := alice.Host()
			require.NoError(t, alice.Close())
			require.NoError(t, bn.mn.UnlinkPeers(a, b))
			require.NoError(t, bn.mn.DisconnectPeers(a, b))
			again := bn.restart("alice", h, bkOpen(t, backup))
			var circles []string
			for i := 0; bkHead(t, again, a) < held+uint64(extra)-1; i++ {
				c := fmt.Sprintf("offline-%d", i)
				_, err := again.AddCircle(ctx, c)
				require.NoError(t, err, "a node whose connections are unreachable still writes")
				circles = append(circles, c)
			}
			_, err := again.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{"written offline"}, Circles: []string{"friends"}})
			require.NoError(t, err)
			require.Equal(t, held+uint64(extra), bkHead(t, again, a), "alice's log is not shorter than the copy bob holds")

			_, err = bn.mn.LinkPeers(a, b)
			require.NoError(t, err)
			bkEventually(t, "alice takes bob's history back", func() bool {
				return slices.Equal(bkContacts(t, again), bkThree)
			})
			bkEventually(t, "bob sees alice's note", func() bool {
				return slices.Equal(bkSeen(t, bob, a, "note"), []string{"written offline"})
			})
			bkEventually(t, "bob holds alice's whole log", func() bool { return bkHead(t, bob, a) == bkHead(t, again, a) })
			got, err := again.Circles(ctx)
			require.NoError(t, err)
			for _, c := range circles {
				require.True(t, slices.ContainsFunc(got, func(x api.Circle) bool { return x.Name == c }), "alice's circle %s after the rebase: %v", c, got)
			}
			bkRequireClean(t, bob)
			bkRequireClean(t, again)
		})
	}
}

// TestConfirmedDivergenceStillForks: alice restarts with bob reachable, so
// her writes follow the head bob told her (not blind). A second entry of
// her key at the seq of her next write reaches bob by hand (a stolen
// device key, say): bob records the fork, and alice keeps her own log:
// only blind writes give way to a friend's copy that is no longer.
func TestConfirmedDivergenceStillForks(t *testing.T) {
	ctx := t.Context()
	bn := newBKNet(t)
	alice, bob := bn.add("alice"), bn.add("bob")
	a := alice.Host().ID()
	bkConnect(t, alice, bob)
	bkEventually(t, "bob holds alice's log", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
	h, st := alice.Host(), alice.Store()
	require.NoError(t, alice.Close())
	again := bn.restart("alice", h, st)
	_, err := again.AddCircle(ctx, "after-restart") // waits for bob to tell alice her head
	require.NoError(t, err)
	bkEventually(t, "bob holds alice's log", func() bool { return bkHead(t, bob, a) == bkHead(t, again, a) })

	require.NoError(t, bob.Store().Put(ctx, elsewhere(t, again, "alice", "clone")))
	_, err = again.AddCircle(ctx, "real") // the same seq, another entry; announced
	require.NoError(t, err)
	bkEventually(t, "bob records the fork", func() bool {
		s, err := bob.Status(ctx)
		require.NoError(t, err)
		return s.Forks == 1
	})
	cs, err := again.Circles(ctx)
	require.NoError(t, err)
	require.Contains(t, circleNames(cs), "real", "alice keeps her own entry")
	require.NotContains(t, circleNames(cs), "clone", "alice does not take the other copy")
}
