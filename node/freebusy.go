package node

import (
	"context"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// Free/busy (node/freebusy): the local API's part, and what the service
// answers from.

// freeBusySource answers the free/busy service: a connection in a circle
// I allow, my calendar's busy blocks.
type freeBusySource struct{ n *Node }

func (s freeBusySource) Allowed(ctx context.Context, p peer.ID) (bool, error) {
	if ok, err := s.n.book.IsConnection(ctx, p); err != nil || !ok {
		return false, err
	}
	allowed, err := s.n.cal.FreeBusyCircles(ctx)
	if err != nil || len(allowed) == 0 {
		return false, err
	}
	circles, err := s.n.book.CirclesOf(ctx, p)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(circles, func(c string) bool { return slices.Contains(allowed, c) }), nil
}

func (s freeBusySource) Busy(ctx context.Context, from, to time.Time) ([]spec.Busy, error) {
	return s.n.cal.Busy(ctx, from, to)
}

// FreeBusy implements api.API: the busy blocks of the connection ref (a
// peer ID or a name) in [from, to), if it allows me.
func (n *Node) FreeBusy(ctx context.Context, ref string, from, to time.Time) (*api.FreeBusy, error) {
	p, err := n.book.Connection(ctx, ref)
	if err != nil {
		return nil, err
	}
	blocks, err := n.fb.Query(ctx, p, from, to)
	if err != nil {
		return nil, err
	}
	out := &api.FreeBusy{Peer: p.String(), From: from.UTC(), To: to.UTC(), Busy: []api.BusyBlock{}}
	for _, b := range blocks {
		out.Busy = append(out.Busy, api.BusyBlock{Start: time.Unix(b.Start, 0).UTC(), End: time.Unix(b.End, 0).UTC()})
	}
	return out, nil
}

// SetFreeBusy implements api.API.
func (n *Node) SetFreeBusy(ctx context.Context, circle string, allow bool) (*api.FreeBusyPolicy, error) {
	if allow {
		if _, err := n.book.CheckCircles(ctx, []string{circle}); err != nil {
			return nil, err
		}
	}
	cs, err := n.cal.SetFreeBusy(ctx, circle, allow)
	if err != nil {
		return nil, err
	}
	return &api.FreeBusyPolicy{Circles: cs}, nil
}

// FreeBusyPolicy implements api.API.
func (n *Node) FreeBusyPolicy(ctx context.Context) (*api.FreeBusyPolicy, error) {
	cs, err := n.cal.FreeBusyCircles(ctx)
	if err != nil {
		return nil, err
	}
	return &api.FreeBusyPolicy{Circles: cs}, nil
}
