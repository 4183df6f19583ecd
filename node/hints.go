package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/graph/store"
)

// Where my connections were last seen travels with an export as hints
// (graph/archive, "hints"), so that a home imported on a new device dials
// them at its first start: its daemon may listen on another port than the
// old one did, so friends cannot find it at the address they remember,
// and nobody has to type a friend's address.

// exportHints returns where my connections were last seen, most recently
// synced with first (what the hints block keeps when it cannot hold them
// all): the addresses the host knows now, then those the store remembers.
func (n *Node) exportHints(ctx context.Context) ([]archive.PeerHint, error) {
	cs, err := n.book.Connections(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing my connections for the export's hints: %w", err)
	}
	type seen struct {
		hint archive.PeerHint
		last time.Time
	}
	var all []seen
	for _, p := range cs {
		pi, err := n.store.PeerInfo(ctx, p)
		if err != nil {
			return nil, err
		}
		h := archive.PeerHint{Peer: p, Addrs: n.host.Peerstore().Addrs(p)}
		for _, s := range pi.Addrs {
			if a, err := ma.NewMultiaddr(s); err == nil && !slices.ContainsFunc(h.Addrs, a.Equal) {
				h.Addrs = append(h.Addrs, a)
			}
		}
		if len(h.Addrs) > 0 {
			all = append(all, seen{h, pi.LastSync})
		}
	}
	slices.SortStableFunc(all, func(a, b seen) int { return b.last.Compare(a.last) })
	out := make([]archive.PeerHint, len(all))
	for i, s := range all {
		out[i] = s.hint
	}
	return out, nil
}

// keepHints remembers the hints of an import in st (the imported store),
// as if this node had seen those peers there (store.PutPeerAddrs; the
// daemon dials them at start): only for peers that are my connections in
// the imported graph, which is verified, unlike the hints.
func keepHints(ctx context.Context, st *store.Store, me peer.ID, hints []archive.PeerHint) error {
	if len(hints) == 0 {
		return nil
	}
	rs, err := st.Records(ctx, me, graph.KindConnection)
	if err != nil {
		return fmt.Errorf("reading my connections for the export's hints: %w", err)
	}
	mine := make(map[peer.ID]bool, len(rs))
	for _, r := range rs {
		if p, err := peer.Decode(r.Key); err == nil {
			mine[p] = true
		}
	}
	for _, h := range hints {
		if !mine[h.Peer] {
			continue
		}
		addrs := make([]string, len(h.Addrs))
		for i, a := range h.Addrs {
			addrs[i] = a.String()
		}
		if err := st.PutPeerAddrs(ctx, h.Peer, addrs); err != nil {
			return err
		}
	}
	return nil
}
