package node_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
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

// bulkyCards returns n cards of about size bytes each.
func bulkyCards(prefix string, n, size int) []graph.Card {
	cards := make([]graph.Card, n)
	for i := range cards {
		cards[i] = graph.Card{Fields: []graph.Field{{Name: "fn", Value: fmt.Sprintf("%s %d", prefix, i)},
			{Name: "note", Value: strings.Repeat("x", size)}}}
	}
	return cards
}

// A compromised friend that writes far more than a person does fills its
// quota, not the disk: alice stores mallory's log up to the quota, refuses
// the rest with a record that `kith status` shows, and goes on working
// with bob.
func TestFriendOverQuota(t *testing.T) {
	for _, tc := range []struct {
		name           string
		entries, bytes int64 // over the log at the start
	}{
		{"entries", 10, 1 << 30},
		{"bytes", 1 << 20, 8 * 4 << 10}, // about eight 3 KiB entries
	} {
		t.Run(tc.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T) {
				ctx := t.Context()
				tn := newNet(t)
				mallory, bob := tn.add("mallory"), tn.add("bob")
				// alice's quota: mallory's log as it is when they
				// connect, plus a little.
				start, err := mallory.Store().AuthorUsage(ctx, mallory.Host().ID())
				require.NoError(t, err)
				entries, bytes := start.Entries+tc.entries+2, start.Bytes+tc.bytes+(16<<10) // room for the connection's own entries
				alice := tn.add("alice", node.WithTuning(func(t *node.Tuning) { t.SetQuota(entries, bytes) }))
				connect(t, alice, mallory, "friends")
				connect(t, alice, bob, "friends")
				eventually(t, "alice holds mallory's log", func() bool { return head(t, alice, mallory) == head(t, mallory, mallory) })

				_, err = mallory.AddContacts(ctx, bulkyCards("flood", 40, 3<<10))
				require.NoError(t, err)
				var held store.Usage
				eventually(t, "alice stores mallory's log up to the quota and refuses the rest", func() bool {
					st, err := alice.Status(ctx)
					require.NoError(t, err)
					held, err = alice.Store().AuthorUsage(ctx, mallory.Host().ID())
					require.NoError(t, err)
					return len(st.OverQuota) == 1 && st.OverQuota[0].FromSeq == uint64(held.Entries)+1
				})
				if held.Entries > entries || held.Bytes > bytes {
					t.Errorf("alice holds %d entries, %d bytes of mallory's log; quota %d, %d", held.Entries, held.Bytes, entries, bytes)
				}
				st, err := alice.Status(ctx)
				require.NoError(t, err)
				q := st.OverQuota[0]
				require.Equal(t, mallory.Host().ID(), q.Author)
				require.Equal(t, uint64(held.Entries)+1, q.FromSeq, "refused from the first entry past the quota")
				require.Contains(t, q.Reason, "quota")
				require.Positive(t, q.Bytes)

				t.Logf("alice holds %d entries (%d bytes) of mallory's log; refused %d entries (%d bytes)",
					held.Entries, held.Bytes, q.Entries, q.Bytes)

				// Mallory writes more: alice does not even ask for it (a
				// flood costs her one chunk, not one per announcement).
				_, err = mallory.AddContacts(ctx, bulkyCards("more", 5, 3<<10))
				require.NoError(t, err)
				idle(t)
				now, err := alice.Store().AuthorUsage(ctx, mallory.Host().ID())
				require.NoError(t, err)
				require.Equal(t, held, now, "nothing more is stored")
				st, err = alice.Status(ctx)
				require.NoError(t, err)
				require.Equal(t, q, st.OverQuota[0], "nothing more is fetched")

				// With a quota raised (a restart), alice takes the rest and
				// the record goes.
				require.NoError(t, alice.Close())
				alice = node.NewTest(t, "alice", node.WithHost(alice.Host()), node.WithStore(alice.Store()), node.WithTuning(tn.timers),
					node.WithQuota(node.Quota{Entries: entries + 100, Bytes: bytes + 1<<20}))
				eventually(t, "alice takes the rest of mallory's log", func() bool {
					st, err := alice.Status(ctx)
					require.NoError(t, err)
					return head(t, alice, mallory) == head(t, mallory, mallory) && len(st.OverQuota) == 0
				})

				// alice goes on working: bob's change arrives, hers reaches bob.
				_, err = bob.AddContacts(ctx, bulkyCards("bob's", 1, 10))
				require.NoError(t, err)
				_, err = alice.AddContacts(ctx, bulkyCards("alice's", 1, 10))
				require.NoError(t, err)
				eventually(t, "alice and bob sync", func() bool {
					return head(t, alice, bob) == head(t, bob, bob) && head(t, bob, alice) == head(t, alice, alice)
				})
			})
		})
	}
}
