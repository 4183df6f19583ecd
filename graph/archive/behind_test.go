package archive_test

import (
	"bytes"
	"context"
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
	"github.com/kith-p2p/kith/spec"
)

// logSource serves logs of raw entries as an export's [archive.Source].
type logSource map[peer.ID][][]byte

func (s logSource) Heads(context.Context) (map[peer.ID]graph.Head, error) {
	out := map[peer.ID]graph.Head{}
	for a, raws := range s {
		e, err := spec.Decode(raws[len(raws)-1])
		if err != nil {
			return nil, err
		}
		out[a] = graph.Head{Seq: e.Seq, CID: spec.CIDOf(raws[len(raws)-1]), Time: e.Time}
	}
	return out, nil
}

func (s logSource) Entries(_ context.Context, author peer.ID, after uint64, limit int) ([][]byte, error) {
	raws := s[author][after:]
	if limit > 0 && len(raws) > limit {
		raws = raws[:limit]
	}
	return raws, nil
}

// badSignatureExport is an export, signed by its identity, whose log of
// n entries holds one with a bad signature at index bad (0-based) that its
// own author chained over (later entries link to it and are signed): the
// chain and the manifest are sound, only the entry's own signature is not.
func badSignatureExport(t *testing.T, n, bad int) []byte {
	t.Helper()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{})
	appendContacts(t, st, me, n)
	log, err := st.Log(t.Context(), me.PeerID(), 0, 0)
	require.NoError(t, err)
	raws := make([][]byte, len(log))
	var prev cid.Cid
	for i, le := range log {
		e, err := spec.Decode(le.Raw)
		require.NoError(t, err)
		if i > 0 {
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
	var buf bytes.Buffer
	_, err = archive.Write(t.Context(), &buf, logSource{me.PeerID(): raws}, archive.WriteOptions{Signer: me, Now: time.UnixMilli(1_700_000_000_000)})
	require.NoError(t, err)
	return buf.Bytes()
}

// TestSignaturesBehind: a bad entry signature is refused whether it is
// verified in front of put or behind it (then by Entries or by
// Signatures, whichever finds it first).
func TestSignaturesBehind(t *testing.T) {
	data := badSignatureExport(t, 5, 2)
	for _, behind := range []bool{false, true} {
		r, err := archive.NewReader(bytes.NewReader(data), archive.ReadOptions{SignaturesBehind: behind})
		require.NoError(t, err)
		put := func(context.Context, []*graph.Entry) error { return nil }
		err = r.Entries(t.Context(), nil, put)
		if err == nil {
			require.True(t, behind, "Entries without SignaturesBehind = nil, want the bad signature")
			err = r.Signatures()
		}
		require.ErrorIs(t, err, archive.ErrBadEntry, "behind=%v", behind)
		require.ErrorIs(t, err, spec.ErrBadSignature, "behind=%v", behind)
		require.NoError(t, r.Signatures(), "Signatures a second time")
	}

	// A sound export reads the same either way.
	f := newFixture(t, 1500, 30)
	good := f.export(t, nil)
	r, err := archive.NewReader(bytes.NewReader(good), archive.ReadOptions{SignaturesBehind: true})
	require.NoError(t, err)
	st := store.NewTest(t, book.Index{})
	require.NoError(t, r.Entries(t.Context(), graph.Opener(f.me), st.Put))
	require.NoError(t, r.Signatures())
}

// TestHeadSignatureBeforePut: with SignaturesBehind, a log's head is
// still verified before the batch holding it goes to put, so Entries
// itself refuses a bad head and put never sees it; the batches before it
// may have gone to put.
func TestHeadSignatureBeforePut(t *testing.T) {
	const n = 2500 // three batches of the reader
	data := badSignatureExport(t, n, n-1)
	r, err := archive.NewReader(bytes.NewReader(data), archive.ReadOptions{SignaturesBehind: true})
	require.NoError(t, err)
	var last uint64
	put := func(_ context.Context, es []*graph.Entry) error {
		last = es[len(es)-1].Seq
		return nil
	}
	err = r.Entries(t.Context(), nil, put)
	require.ErrorIs(t, err, archive.ErrBadEntry)
	require.ErrorIs(t, err, spec.ErrBadSignature)
	total := r.Manifest().Logs[0].Seq
	if last >= total {
		t.Errorf("put got the log up to seq %d, its head with a bad signature is seq %d", last, total)
	}
}

// TestLongLogSignatures: a log long enough to be checked with its
// author's table (sigs.go) is refused for one bad signature in its
// middle, and read in full when it has none.
func TestLongLogSignatures(t *testing.T) {
	const n = 2100
	data := badSignatureExport(t, n, 1234)
	r, err := archive.NewReader(bytes.NewReader(data), archive.ReadOptions{SignaturesBehind: true})
	require.NoError(t, err)
	require.NoError(t, r.Entries(t.Context(), nil, func(context.Context, []*graph.Entry) error { return nil }))
	err = r.Signatures()
	require.ErrorIs(t, err, archive.ErrBadEntry)
	require.ErrorIs(t, err, spec.ErrBadSignature)
	require.ErrorContains(t, err, "block 1236 ") // the manifest, then entries from seq 1

	good := badSignatureExport(t, n, -1)
	r, err = archive.NewReader(bytes.NewReader(good), archive.ReadOptions{SignaturesBehind: true})
	require.NoError(t, err)
	var got int
	require.NoError(t, r.Entries(t.Context(), nil, func(_ context.Context, es []*graph.Entry) error { got += len(es); return nil }))
	require.NoError(t, r.Signatures())
	require.Equal(t, n, got)
}
