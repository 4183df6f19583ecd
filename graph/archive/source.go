package archive

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
)

// StoreSource returns s as a [Source].
func StoreSource(s *store.Store) Source { return storeSource{s} }

type storeSource struct{ s *store.Store }

func (s storeSource) Heads(ctx context.Context) (map[peer.ID]graph.Head, error) {
	return s.s.Heads(ctx)
}

func (s storeSource) Entries(ctx context.Context, author peer.ID, after uint64, limit int) ([][]byte, error) {
	les, err := s.s.Log(ctx, author, after, limit)
	if err != nil {
		return nil, err
	}
	raws := make([][]byte, len(les))
	for i, le := range les {
		raws[i] = le.Raw
	}
	return raws, nil
}
