package graph_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// rotationFixture is a person at generation 0 with a short log, the keys
// of generation 1, and the recovery key.
type rotationFixture struct {
	root     *identity.Root
	id0, id1 *identity.Identity
	rec      ed25519.PrivateKey
	head     graph.Head
	genesis  []byte // the commitment id0's genesis holds
	w        *graph.Writer
}

func newRotationFixture(t *testing.T, fill byte) *rotationFixture {
	t.Helper()
	root, err := identity.NewRoot(bytes.NewReader(bytes.Repeat([]byte{fill}, identity.RootSize)))
	require.NoError(t, err)
	f := &rotationFixture{root: root, rec: root.RecoveryKey()}
	f.id0, err = root.IdentityAt(0)
	require.NoError(t, err)
	f.id1, err = root.IdentityAt(1)
	require.NoError(t, err)
	f.genesis = f.id0.RecoveryCommitment()
	s := store.NewTest(t, book.Index{})
	f.w, err = graph.NewWriter(t.Context(), f.id0, s, nil)
	require.NoError(t, err)
	_, err = f.w.Append(t.Context(),
		graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: f.genesis}, To: graph.Audience{Public: true}},
		graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: f.id0.EncryptionKey()}, To: graph.Audience{Public: true}},
		contact("c1", "Carol"))
	require.NoError(t, err)
	f.head = f.w.Head()
	return f
}

// entryAt signs body as author's entry at seq after prev, and reads it
// back as a received entry.
func entryAt(t *testing.T, author *identity.Identity, seq uint64, prev graph.Head, body *graph.Body) *graph.Entry {
	t.Helper()
	aud, sealed, err := graph.Seal(author, graph.Audience{Public: true}, body)
	require.NoError(t, err)
	se := &spec.Entry{V: spec.Version, Author: []byte(author.PeerID()), Seq: seq, Time: prev.Time + 1, Aud: aud, Body: sealed}
	if seq > 1 {
		se.Prev = spec.LinkTo(prev.CID)
	}
	require.NoError(t, se.Sign(author.Sign))
	raw, err := se.Encode()
	require.NoError(t, err)
	e, err := graph.Verify(raw, graph.Opener(author))
	require.NoError(t, err)
	return e
}

// resign signs r again after a change, with the keys given.
func resign(t *testing.T, r *graph.Rotation, old peer.ID, rec ed25519.PrivateKey, next func([]byte) ([]byte, error)) {
	t.Helper()
	msg, err := r.SigningBytes(old)
	require.NoError(t, err)
	r.RSig = ed25519.Sign(rec, msg)
	r.NSig, err = next(msg)
	require.NoError(t, err)
}

func TestVerifyRotation(t *testing.T) {
	f := newRotationFixture(t, 0x42)
	other := newRotationFixture(t, 0x43)
	stranger := identity.NewTest(t, "stranger")
	old := f.id0.PeerID()

	draft := func(t *testing.T, mode string) *graph.Body {
		d, err := graph.RotationDraft(old, f.head, mode, f.id1, 1, f.rec)
		require.NoError(t, err)
		return &d.Body
	}
	afterHead := func(t *testing.T, b *graph.Body) *graph.Entry { return entryAt(t, f.id0, f.head.Seq+1, f.head, b) }

	cases := []struct {
		name       string
		entry      func(t *testing.T) *graph.Entry
		commitment []byte
		wantErr    error
	}{
		{"valid planned", func(t *testing.T) *graph.Entry { return afterHead(t, draft(t, graph.RotatePlanned)) }, f.genesis, nil},
		{"valid by recovery key after a loss", func(t *testing.T) *graph.Entry { return afterHead(t, draft(t, graph.RotateRecover)) }, f.genesis, nil},
		{"forged recovery signature", func(t *testing.T) *graph.Entry {
			b := draft(t, graph.RotatePlanned)
			b.Rotate.RSig[0] ^= 1
			return afterHead(t, b)
		}, f.genesis, graph.ErrBadRotation},
		{"signed by the device key alone", func(t *testing.T) *graph.Entry {
			// A thief holds id0: it names its own key as the recovery key.
			b := draft(t, graph.RotatePlanned)
			b.Rotate.RPub = f.id0.PublicKey()
			thief := ed25519.NewKeyFromSeed(f.id0.Seed())
			resign(t, b.Rotate, old, thief, f.id1.Sign)
			return afterHead(t, b)
		}, f.genesis, graph.ErrBadRotation},
		{"device key signs for the committed recovery key", func(t *testing.T) *graph.Entry {
			b := draft(t, graph.RotatePlanned)
			resign(t, b.Rotate, old, ed25519.NewKeyFromSeed(f.id0.Seed()), f.id1.Sign)
			return afterHead(t, b)
		}, f.genesis, graph.ErrBadRotation},
		{"thief rotates to a key of its own", func(t *testing.T) *graph.Entry {
			b := draft(t, graph.RotatePlanned)
			b.Rotate.New = []byte(stranger.PeerID())
			// It signs as the new identity, and keeps the owner's
			// recovery signature, which covers another new key.
			resign(t, b.Rotate, old, f.rec, stranger.Sign)
			b.Rotate.RSig = bytes.Clone(draft(t, graph.RotatePlanned).Rotate.RSig)
			return afterHead(t, b)
		}, f.genesis, graph.ErrBadRotation},
		{"new identity did not sign", func(t *testing.T) *graph.Entry {
			b := draft(t, graph.RotatePlanned)
			resign(t, b.Rotate, old, f.rec, stranger.Sign)
			return afterHead(t, b)
		}, f.genesis, graph.ErrBadRotation},
		{"another person's recovery key", func(t *testing.T) *graph.Entry {
			d, err := graph.RotationDraft(old, f.head, graph.RotatePlanned, f.id1, 1, other.rec)
			require.NoError(t, err)
			return afterHead(t, &d.Body)
		}, f.genesis, graph.ErrBadRotation},
		{"replayed onto a later head", func(t *testing.T) *graph.Entry {
			later := entryAt(t, f.id0, f.head.Seq+1, f.head, &graph.Body{Kind: graph.KindKeys, Enc: f.id0.EncryptionKey()})
			lh := graph.Head{Seq: later.Seq, CID: later.CID, Time: later.Time}
			return entryAt(t, f.id0, lh.Seq+1, lh, draft(t, graph.RotatePlanned))
		}, f.genesis, graph.ErrBadRotation},
		{"lifted into another log", func(t *testing.T) *graph.Entry {
			return entryAt(t, other.id0, other.head.Seq+1, other.head, draft(t, graph.RotatePlanned))
		}, other.genesis, graph.ErrBadRotation},
		{"genesis not held", func(t *testing.T) *graph.Entry { return afterHead(t, draft(t, graph.RotatePlanned)) }, nil, graph.ErrBadRotation},
		{"not public", func(t *testing.T) *graph.Entry {
			e := afterHead(t, draft(t, graph.RotatePlanned))
			e.Aud = spec.SelfAudience
			return e
		}, f.genesis, graph.ErrBadRotation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := graph.VerifyRotation(tc.entry(t), tc.commitment)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerifyRotation = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil {
				np, err := r.NewPeer()
				require.NoError(t, err)
				if np != f.id1.PeerID() {
					t.Errorf("new peer = %s, want %s", np, f.id1.PeerID())
				}
			}
		})
	}
}

func TestRotateBodyCheck(t *testing.T) {
	f := newRotationFixture(t, 0x44)
	d, err := graph.RotationDraft(f.id0.PeerID(), f.head, graph.RotatePlanned, f.id1, 1, f.rec)
	require.NoError(t, err)
	cases := []struct {
		name   string
		change func(r *graph.Rotation)
		ok     bool
	}{
		{"as drafted", func(*graph.Rotation) {}, true},
		{"unknown mode", func(r *graph.Rotation) { r.Mode = "hostile" }, false},
		{"no head", func(r *graph.Rotation) { r.Seq = 0 }, false},
		{"short next", func(r *graph.Rotation) { r.Next = r.Next[:31] }, false},
		{"short recovery key", func(r *graph.Rotation) { r.RPub = r.RPub[:31] }, false},
		{"short signature", func(r *graph.Rotation) { r.NSig = r.NSig[:63] }, false},
		{"new is not a peer ID", func(r *graph.Rotation) { r.New = []byte("nope") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := *d.Body.Rotate
			tc.change(&r)
			b := graph.Body{Kind: graph.KindRotate, Rotate: &r}
			err := b.Check()
			if tc.ok != (err == nil) {
				t.Fatalf("Check() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, graph.ErrBadBody) {
				t.Errorf("Check() = %v, want ErrBadBody", err)
			}
		})
	}
	if err := (&graph.Body{Kind: graph.KindRotate}).Check(); !errors.Is(err, graph.ErrBadBody) {
		t.Errorf("rotate without a rotation: Check() = %v, want ErrBadBody", err)
	}
}

func TestAppendRotationClosesTheLog(t *testing.T) {
	f := newRotationFixture(t, 0x45)
	build := func(h graph.Head) (graph.Draft, error) {
		return graph.RotationDraft(f.id0.PeerID(), h, graph.RotatePlanned, f.id1, 1, f.rec)
	}
	e, err := f.w.AppendRotation(t.Context(), f.genesis, build)
	require.NoError(t, err)
	if e.Seq != f.head.Seq+1 {
		t.Errorf("rotation at seq %d, want %d", e.Seq, f.head.Seq+1)
	}
	if _, err := f.w.Append(t.Context(), contact("c2", "Dan")); !errors.Is(err, graph.ErrRotated) {
		t.Errorf("Append after a rotation = %v, want ErrRotated", err)
	}
	if _, err := f.w.AppendRotation(t.Context(), f.genesis, build); !errors.Is(err, graph.ErrRotated) {
		t.Errorf("second AppendRotation = %v, want ErrRotated", err)
	}
}

func TestAppendRotationRefusesAForgery(t *testing.T) {
	f := newRotationFixture(t, 0x46)
	other := newRotationFixture(t, 0x47)
	_, err := f.w.AppendRotation(t.Context(), f.genesis, func(h graph.Head) (graph.Draft, error) {
		return graph.RotationDraft(f.id0.PeerID(), h, graph.RotatePlanned, f.id1, 1, other.rec)
	})
	if !errors.Is(err, graph.ErrBadRotation) {
		t.Fatalf("AppendRotation with another recovery key = %v, want ErrBadRotation", err)
	}
	if h := f.w.Head(); h != f.head {
		t.Errorf("head moved to %+v after a refused rotation", h)
	}
	if _, err := f.w.Append(t.Context(), contact("c2", "Dan")); err != nil {
		t.Errorf("Append after a refused rotation = %v", err)
	}
}
