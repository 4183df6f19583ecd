package node

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// rotLog writes a person's log (genesis, keys, a contact) into its own
// store and returns its writer with the keys to rotate.
func rotLog(t *testing.T, fill byte) (w *graph.Writer, id0, id1 *identity.Identity, rec ed25519.PrivateKey, es []*graph.Entry) {
	t.Helper()
	root, err := identity.NewRoot(bytes.NewReader(bytes.Repeat([]byte{fill}, identity.RootSize)))
	require.NoError(t, err)
	id0, err = root.IdentityAt(0)
	require.NoError(t, err)
	id1, err = root.IdentityAt(1)
	require.NoError(t, err)
	rec = root.RecoveryKey()
	w, err = graph.NewWriter(t.Context(), id0, store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	es, err = w.Append(t.Context(),
		graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: id0.RecoveryCommitment()}, To: graph.Audience{Public: true}},
		graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: id0.EncryptionKey()}, To: graph.Audience{Public: true}},
		graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "friends"}, To: graph.Audience{Self: true}})
	require.NoError(t, err)
	return w, id0, id1, rec, es
}

// appendRot appends a rotation drafted for head h (not necessarily the
// writer's head: a replay) without the writer's checks.
func appendRot(t *testing.T, w *graph.Writer, old, next *identity.Identity, h graph.Head, rec ed25519.PrivateKey) *graph.Entry {
	t.Helper()
	d, err := graph.RotationDraft(old.PeerID(), h, graph.RotatePlanned, next, 1, rec)
	require.NoError(t, err)
	es, err := w.Append(t.Context(), d)
	require.NoError(t, err)
	return es[0]
}

// newGenesis writes the genesis of id's log, committing to commitment.
func newGenesis(t *testing.T, id *identity.Identity, commitment []byte) []*graph.Entry {
	t.Helper()
	w, err := graph.NewWriter(t.Context(), id, store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	es, err := w.Append(t.Context(), graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: commitment}, To: graph.Audience{Public: true}})
	require.NoError(t, err)
	return es
}

func headOf(e *graph.Entry) graph.Head { return graph.Head{Seq: e.Seq, CID: e.CID, Time: e.Time} }

func TestCheckRotations(t *testing.T) {
	cases := []struct {
		name string
		// log returns the batches a friend receives, in order; the last
		// is the one checked.
		log       func(t *testing.T) [][]*graph.Entry
		wantErr   error
		wantMoves int
	}{
		{"valid, with the genesis in the batch", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 1)
			return [][]*graph.Entry{append(es, appendRot(t, w, id0, id1, w.Head(), rec))}
		}, nil, 1},
		{"valid, the genesis held from an earlier sync", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 2)
			return [][]*graph.Entry{es, {appendRot(t, w, id0, id1, w.Head(), rec)}}
		}, nil, 1},
		{"forged: another person's recovery key", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, _, es := rotLog(t, 3)
			_, _, _, other, _ := rotLog(t, 4)
			return [][]*graph.Entry{es, {appendRot(t, w, id0, id1, w.Head(), other)}}
		}, graph.ErrBadRotation, 0},
		{"the device key alone", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, _, es := rotLog(t, 5)
			return [][]*graph.Entry{es, {appendRot(t, w, id0, id1, w.Head(), ed25519.NewKeyFromSeed(id0.Seed()))}}
		}, graph.ErrBadRotation, 0},
		{"replayed onto a later head", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 6)
			h := w.Head()
			more, err := w.Append(t.Context(), graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "work"}, To: graph.Audience{Self: true}})
			require.NoError(t, err)
			return [][]*graph.Entry{append(es, more...), {appendRot(t, w, id0, id1, h, rec)}}
		}, graph.ErrBadRotation, 0},
		{"second rotation of the same identity", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 7)
			first := appendRot(t, w, id0, id1, w.Head(), rec)
			return [][]*graph.Entry{append(es, first), {appendRot(t, w, id0, id1, headOf(first), rec)}}
		}, graph.ErrRotated, 0},
		{"any entry after a rotation, in the same batch", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 8)
			first := appendRot(t, w, id0, id1, w.Head(), rec)
			more, err := w.Append(t.Context(), graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "work"}, To: graph.Audience{Self: true}})
			require.NoError(t, err)
			return [][]*graph.Entry{append(append(es, first), more...)}
		}, graph.ErrRotated, 0},
		{"the new genesis commits to another recovery key than next", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 9)
			rot := appendRot(t, w, id0, id1, w.Head(), rec)
			return [][]*graph.Entry{append(es, rot), newGenesis(t, id1, bytes.Repeat([]byte{7}, 32))}
		}, graph.ErrBadRotation, 0},
		{"the new genesis commits to next", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 10)
			rot := appendRot(t, w, id0, id1, w.Head(), rec)
			return [][]*graph.Entry{append(es, rot), newGenesis(t, id1, id1.RecoveryCommitment())}
		}, nil, 0},
		{"a forged new genesis held before the rotation", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 11)
			forged := newGenesis(t, id1, bytes.Repeat([]byte{7}, 32))
			return [][]*graph.Entry{forged, append(es, appendRot(t, w, id0, id1, w.Head(), rec))}
		}, graph.ErrBadRotation, 0},
		{"a forged new genesis in the batch of the rotation", func(t *testing.T) [][]*graph.Entry {
			w, id0, id1, rec, es := rotLog(t, 12)
			rot := appendRot(t, w, id0, id1, w.Head(), rec)
			return [][]*graph.Entry{append(append(es, rot), newGenesis(t, id1, bytes.Repeat([]byte{7}, 32))...)}
		}, graph.ErrBadRotation, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := &Node{store: store.NewTest(t, book.Index{})}
			batches := tc.log(t)
			for _, b := range batches[:len(batches)-1] {
				rots, err := n.checkRotations(t.Context(), b)
				require.NoError(t, err)
				require.NoError(t, n.store.Put(t.Context(), b))
				for _, r := range rots { // as rotationStore.Put does
					n.rots.noteRotation(r.old, r.rot, r.time)
				}
			}
			got, err := n.checkRotations(t.Context(), batches[len(batches)-1])
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("checkRotations = %v, want %v", err, tc.wantErr)
			}
			if len(got) != tc.wantMoves {
				t.Errorf("checkRotations found %d rotations to follow, want %d", len(got), tc.wantMoves)
			}
		})
	}
}

// TestRecoveryRotationSupersedesThief: a thief with the device key wrote
// past the head the owner last saw; the owner's recovery rotation, ending
// that head, wins over the thief's entries at a friend (spec "Rotation",
// "After a theft"). A planned rotation in its place is only a fork.
func TestRecoveryRotationSupersedesThief(t *testing.T) {
	for _, mode := range []string{graph.RotateRecover, graph.RotatePlanned} {
		t.Run(mode, func(t *testing.T) {
			ctx := t.Context()
			stolen, id0, id1, rec, es := rotLog(t, 20)
			owner := es[len(es)-1]
			// The owner's home, recovered, holds the log up to what the owner saw.
			home := store.NewTest(t, book.Index{})
			require.NoError(t, home.Put(ctx, es))
			w, err := graph.NewWriter(ctx, id0, home, nil)
			require.NoError(t, err)
			thief, err := stolen.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "stolen"}, To: graph.Audience{Self: true}},
				graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "stolen too"}, To: graph.Audience{Self: true}})
			require.NoError(t, err)
			d, err := graph.RotationDraft(id0.PeerID(), headOf(owner), mode, id1, 1, rec)
			require.NoError(t, err)
			rot, err := w.Append(ctx, d)
			require.NoError(t, err)

			// A friend holds the owner's entries and the thief's.
			n := &Node{id: identity.NewTest(t, "friend"), store: store.NewTest(t, book.Index{}), log: slog.New(slog.DiscardHandler)}
			received := func(es []*graph.Entry) []*graph.Entry { // as the friend reads them
				out := make([]*graph.Entry, len(es))
				for i, e := range es {
					var err error
					if out[i], err = graph.Verify(e.Raw, graph.Opener(n.id)); err != nil {
						out[i], err = graph.Verify(e.Raw, nil)
						require.NoError(t, err)
					}
				}
				return out
			}
			require.NoError(t, n.store.Put(ctx, received(append(slices.Clone(es), thief...))))
			rot = received(rot)
			rots, err := n.checkRotations(ctx, rot)
			require.NoError(t, err)
			left, err := n.supersede(ctx, rot, rots)
			require.NoError(t, err)
			err = n.store.Put(ctx, left)
			h, herr := n.store.Head(ctx, id0.PeerID())
			require.NoError(t, herr)
			if mode == graph.RotatePlanned {
				if err == nil || h.Seq != thief[len(thief)-1].Seq {
					t.Errorf("a planned rotation over the thief's entries: Put = %v, head %d; want a fork, head %d", err, h.Seq, thief[len(thief)-1].Seq)
				}
				return
			}
			require.NoError(t, err)
			if !h.CID.Equals(rot[0].CID) {
				t.Errorf("the friend's head of the old log is seq %d %s, want the recovery rotation %s", h.Seq, h.CID, rot[0].CID)
			}
			if forks, err := n.store.Forks(ctx); err != nil || len(forks) != 0 {
				t.Errorf("fork evidence after the recovery = %v, %v; want none", forks, err)
			}
			r, err := n.store.Record(ctx, id0.PeerID(), graph.KindRotate, "")
			require.NoError(t, err)
			if np, _ := r.Body.Rotate.NewPeer(); np != id1.PeerID() {
				t.Errorf("the friend's rotate record names %s, want %s", np, id1.PeerID())
			}
		})
	}
}
