package node_test

import (
	"slices"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/stretchr/testify/require"
)

// A card of mine that a circle member with a known key cannot read (its
// key arrived when the card could not be re-issued: during a rotation,
// say) is re-issued to them when the node starts.
func TestCardResealedAtStart(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		rn := newRotNet(t)
		home := phraseHome(t)
		a := rn.homeNode(home)
		aID := a.Host().ID()
		b := node.NewTest(t, "bob", node.WithHost(rn.host(identity.NewTest(t, "bob"))))
		_, err := a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
		require.NoError(t, err)
		connectRot(t, a, b, "friends")
		reads := func(name string) func() bool {
			return func() bool {
				p, _ := peerOf(t, b, aID)
				return slices.Contains(p.Card.Values("fn"), name)
			}
		}
		eventually(t, "bob reads alice's card", reads("Alice"))

		// Alice's new friends card, sealed to her alone: bob, a member
		// whose key she holds, holds it but cannot read it.
		var card graph.Card
		card.Set("fn", "Alicia")
		require.NoError(t, a.AppendCard(ctx, "friends", card))
		eventually(t, "bob holds alice's head", func() bool {
			p, _ := peerOf(t, b, aID)
			mine, err := a.Log(ctx, 0, 1000)
			return err == nil && p.Entries > 0 && p.Entries >= int64(len(mine))
		})
		require.False(t, reads("Alicia")(), "bob reads a card not sealed to him")

		gone(t, rn, a, b)
		a = rn.homeNode(home)
		require.Equal(t, aID, a.Host().ID())
		eventually(t, "bob reads alice's card, re-issued to him at her start", reads("Alicia"))
	})
}
