package node

import (
	"context"

	"github.com/kith-p2p/kith/graph"
)

// AppendContact writes a contact record as it is, as a version before
// UIDs did (without one).
func (n *Node) AppendContact(ctx context.Context, key string, card graph.Card) error {
	_, err := n.append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: key, Card: &card}, To: graph.Audience{Self: true}})
	return err
}
