package node_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// TestReadersHidden: carol is alice's connection in no circle, so she
// holds alice's whole log, the family card included. Nothing in it names
// bob or dave, its readers: no peer ID, no encryption key; every audience
// has a power-of-two count of slots and every sealed body a bucket's size.
// Bob and dave open the card and cannot tell each other's slot from a
// dummy's; alice alone can tell who she sealed it to.
func TestReadersHidden(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob, dave, carol := tn.add("alice"), tn.add("bob"), tn.add("dave"), tn.add("carol")
		connect(t, alice, bob, "family")
		connect(t, alice, dave, "family")
		connect(t, alice, carol, "work")
		require.NoError(t, alice.AssignCircles(ctx, api.AssignRequest{PeerID: carol.Host().ID().String()}))
		_, err := alice.SetMe(ctx, api.SetMeRequest{Field: "tel", Values: []string{"+1 555 0100"}, Circles: []string{"family"}})
		require.NoError(t, err)
		eventually(t, "bob and dave see alice's number", func() bool {
			return slices.Equal(seen(t, bob, alice, "tel"), []string{"+1 555 0100"}) &&
				slices.Equal(seen(t, dave, alice, "tel"), []string{"+1 555 0100"})
		})
		eventually(t, "carol holds alice's whole log", func() bool { return head(t, carol, alice) == head(t, alice, alice) })

		aliceID, carolID := identity.NewTest(t, "alice"), identity.NewTest(t, "carol")
		bobID, daveID := identity.NewTest(t, "bob"), identity.NewTest(t, "dave")
		secrets := map[string][]byte{}
		for _, n := range []*node.Node{bob, dave, carol} {
			p := n.Host().ID()
			secrets["peer ID of "+p.String()] = []byte(p)
			secrets["peer ID text of "+p.String()] = []byte(p.String())
		}
		for _, id := range []*identity.Identity{bobID, daveID, carolID} {
			secrets["encryption key of "+id.PeerID().String()] = id.EncryptionKey()
		}

		les, err := carol.Store().Log(ctx, alice.Host().ID(), 0, 0)
		require.NoError(t, err)
		var family *graph.Entry
		for _, le := range les {
			for what, b := range secrets {
				if bytes.Contains(le.Raw, b) {
					t.Errorf("carol's copy of alice's entry %d holds the %s", le.Seq, what)
				}
			}
			e, err := graph.Verify(le.Raw, nil)
			require.NoError(t, err)
			switch {
			case e.Aud.Public:
				continue
			case e.Aud.Sealed != nil:
				if n := len(e.Aud.Sealed.Slots); spec.SlotCount(n) != n {
					t.Errorf("entry %d has %d slots, not a bucket", e.Seq, n)
				}
			}
			if p := len(e.Entry.Body) - 40; spec.PaddedSize(p-1) != p {
				t.Errorf("entry %d: a sealed body of %d bytes, not a bucket", e.Seq, p)
			}
			if _, err := graph.Open(carolID, e.Entry); !errors.Is(err, graph.ErrNotForMe) {
				t.Errorf("carol opens alice's entry %d: err = %v, want ErrNotForMe", e.Seq, err)
			}
			if b, err := graph.Open(aliceID, e.Entry); err == nil && b.Kind == graph.KindCard && b.Key == "family" {
				family = e
			}
		}
		require.NotNil(t, family, "carol holds alice's family card")

		// Bob reads it with his own key alone, and his slot is the only
		// one he can tell apart: dave's tag is not his to compute.
		b, err := graph.Open(bobID, family.Entry)
		require.NoError(t, err)
		require.Equal(t, []string{"+1 555 0100"}, b.Card.Values("tel"))
		_, err = graph.Open(daveID, family.Entry)
		require.NoError(t, err)
		candidates := []graph.Reader{
			{ID: bobID.PeerID(), EncKey: bobID.EncryptionKey()},
			{ID: carolID.PeerID(), EncKey: carolID.EncryptionKey()},
			{ID: daveID.PeerID(), EncKey: daveID.EncryptionKey()},
		}
		if _, err := graph.Recipients(bobID, family.Entry, candidates); err == nil {
			t.Errorf("bob told who else reads alice's family card")
		}
		rs, err := graph.Recipients(aliceID, family.Entry, candidates)
		require.NoError(t, err)
		require.ElementsMatch(t, []graph.Reader{candidates[0], candidates[2]}, rs, "alice tells her family card's readers")
	})
}

// TestOlderFormatHomeRefused: a home whose log a pre-release kith wrote at
// v=2 (readers named in clear) does not start: appending v=3 entries to it
// would make a log no friend accepts. The error says what to do.
func TestOlderFormatHomeRefused(t *testing.T) {
	ctx := t.Context()
	id := identity.NewTest(t, "old")
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "kith.db"), book.Index{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	body := graph.Body{Kind: graph.KindGenesis, Recovery: bytes.Repeat([]byte{1}, 32)}
	plain, err := spec.Marshal(&body)
	require.NoError(t, err)
	se := &spec.Entry{V: 2, Author: []byte(id.PeerID()), Seq: 1, Time: 1, Aud: spec.PublicAudience, Body: plain}
	require.NoError(t, se.Sign(id.Sign))
	raw, err := se.Encode()
	require.NoError(t, err)
	require.NoError(t, st.Put(ctx, []*graph.Entry{{Entry: se, Raw: raw, CID: spec.CIDOf(raw), Author: id.PeerID(), Identity: id.PeerID(), Body: &body}}))

	n, err := node.New(ctx, node.WithIdentity(id), node.WithStore(st))
	if err == nil {
		n.Close()
	}
	require.ErrorIs(t, err, spec.ErrUnknownVersion)
	require.ErrorContains(t, err, "kith init")
}
