package node

import (
	"context"

	"github.com/kith-p2p/kith/graph"
)

// AppendUnchecked appends d to my log as it is: a rotate entry without
// the checks AppendRotation makes (tests of what friends refuse).
func (n *Node) AppendUnchecked(ctx context.Context, d graph.Draft) error {
	_, err := n.writer.Append(ctx, d)
	return err
}
