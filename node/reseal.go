package node

import (
	"context"
	"errors"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
	"github.com/libp2p/go-libp2p/core/peer"
)

// resealCards re-issues a card of mine to each circle member whose key
// this store holds but who is not among the card's readers. Keys arriving
// re-issue cards as they come (syncPeers.KeysArrived); this catches the
// ones that could not: a key that arrived while a rotation carried my
// cards to the new log, or while the node was stopping. It runs once
// writes may go, and writes nothing when every card is sealed right (one
// X25519 per member and card to tell).
func (n *Node) resealCards() {
	ctx := n.bg.Context()
	if err := n.writer.wait(ctx); err != nil || n.writer.CanWrite() != nil {
		return
	}
	missing, err := n.unsealedMembers(ctx)
	if err != nil {
		n.log.Debug("checking my cards' readers", "err", err)
		return
	}
	for _, p := range missing {
		if err := n.book.Reissue(ctx, p); err != nil {
			n.log.Warn("re-issuing my cards to a circle member", "peer", p, "err", err)
			continue
		}
		n.log.Info("re-issued my cards to a circle member they were not sealed to", "peer", p)
	}
}

// unsealedMembers returns the members of my circles with a usable key
// that the circle's current card is not sealed to.
func (n *Node) unsealedMembers(ctx context.Context) ([]peer.ID, error) {
	me := n.id.PeerID()
	circles, err := n.store.Records(ctx, me, graph.KindCircle)
	if err != nil {
		return nil, err
	}
	seen := map[peer.ID]bool{}
	var out []peer.ID
	for _, c := range circles {
		if c.Body == nil || c.Body.Del || len(c.Body.Members) == 0 {
			continue
		}
		card, err := n.store.Record(ctx, me, graph.KindCard, c.Key)
		switch {
		case errors.Is(err, graph.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		case card.Body == nil || card.Body.Del || card.Version.Seq == 0:
			continue
		}
		les, err := n.store.Log(ctx, me, card.Version.Seq-1, 1)
		if err != nil {
			return nil, err
		}
		if len(les) != 1 || !les[0].CID.Equals(card.CID) {
			continue
		}
		e, err := spec.Decode(les[0].Raw)
		if err != nil || e.Aud.Sealed == nil {
			continue
		}
		var want []graph.Reader
		for _, m := range c.Body.Members {
			p, err := peer.Decode(m)
			if err != nil || seen[p] {
				continue
			}
			r, ok, err := graph.ReaderOf(ctx, n.store, p)
			if err != nil {
				return nil, err
			}
			if ok {
				want = append(want, r)
			}
		}
		got, err := graph.Recipients(n.id, e, want)
		if err != nil {
			continue
		}
		has := map[peer.ID]bool{}
		for _, r := range got {
			has[r.ID] = true
		}
		for _, r := range want {
			if !has[r.ID] {
				seen[r.ID] = true
				out = append(out, r.ID)
			}
		}
	}
	return out, nil
}
