package node

import (
	"context"

	"github.com/kith-p2p/kith/node/api"
)

// Check implements api.API: it re-verifies the store, opening the bodies
// this node can read so that their kind and key are checked too.
func (n *Node) Check(ctx context.Context) (*api.CheckReport, error) {
	rep, err := n.store.Check(ctx, n.rots.opener(ctx, n))
	if err != nil {
		return nil, err
	}
	return &api.CheckReport{
		Entries:  rep.Entries,
		Logs:     rep.Logs,
		Records:  rep.Records,
		Indexed:  rep.Indexed,
		Problems: rep.Problems,
	}, nil
}
