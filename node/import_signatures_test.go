package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// oneLog serves one log of raw entries as an export's [archive.Source].
type oneLog struct {
	author peer.ID
	raws   [][]byte
}

func (s oneLog) Heads(context.Context) (map[peer.ID]graph.Head, error) {
	last := s.raws[len(s.raws)-1]
	e, err := spec.Decode(last)
	if err != nil {
		return nil, err
	}
	return map[peer.ID]graph.Head{s.author: {Seq: e.Seq, CID: spec.CIDOf(last), Time: e.Time}}, nil
}

func (s oneLog) Entries(_ context.Context, _ peer.ID, after uint64, limit int) ([][]byte, error) {
	raws := s.raws[after:]
	if limit > 0 && len(raws) > limit {
		raws = raws[:limit]
	}
	return raws, nil
}

// TestImportRefusesBadSignature: an export whose log holds an entry with
// a bad signature that its own author chained over (the CIDs, the chain
// and the manifest are sound), or whose head's signature is bad, is
// refused, though signatures are verified behind the store, and the home
// is left as it was.
func TestImportRefusesBadSignature(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	for i := range 3000 { // more than one batch of the reader
		_, err := w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: fmt.Sprint(i),
			Card: &graph.Card{Fields: []graph.Field{{Name: "fn", Value: fmt.Sprintf("Person %d", i)}}}}, To: graph.Audience{Self: true}})
		require.NoError(t, err)
	}
	log, err := st.Log(ctx, me.PeerID(), 0, 0)
	require.NoError(t, err)
	for _, bad := range []int{2, len(log) - 2, len(log) - 1} { // early, late, the head
		t.Run(fmt.Sprintf("entry %d of %d", bad+1, len(log)), func(t *testing.T) {
			raws := make([][]byte, len(log))
			var prev cid.Cid
			for i, le := range log {
				e, err := spec.Decode(le.Raw)
				require.NoError(t, err)
				if i >= bad {
					e.Prev = spec.LinkTo(prev)
					require.NoError(t, e.Sign(me.Sign))
				}
				if i == bad {
					e.Sig[0] ^= 0x01
				}
				raws[i], err = e.Encode()
				require.NoError(t, err)
				prev = spec.CIDOf(raws[i])
			}
			key, err := identity.MarshalKey(me, []byte("pw"))
			require.NoError(t, err)
			var buf bytes.Buffer
			_, err = archive.Write(ctx, &buf, oneLog{me.PeerID(), raws}, archive.WriteOptions{Signer: me, Key: key, Now: time.UnixMilli(1_700_000_000_000)})
			require.NoError(t, err)

			home := filepath.Join(t.TempDir(), "home")
			_, err = node.Import(ctx, home, &buf, api.ImportOptions{KeyPassphrase: passphrase("pw")})
			if !errors.Is(err, archive.ErrBadEntry) || !errors.Is(err, spec.ErrBadSignature) {
				t.Fatalf("Import = %v, want %v and %v", err, archive.ErrBadEntry, spec.ErrBadSignature)
			}
			if files := homeFiles(t, home); len(files) != 0 {
				t.Errorf("Import left %v in the home", files)
			}
		})
	}
}
