package graph_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

func contact(key, name string) graph.Draft {
	return graph.Draft{
		Body: graph.Body{Kind: graph.KindContact, Key: key, Card: &graph.Card{Fields: []graph.Field{{Name: "fn", Value: name}}}},
		To:   graph.Audience{Self: true},
	}
}

func TestWriterAppendChainsAndFolds(t *testing.T) {
	ctx := t.Context()
	alice := identity.NewTest(t, "alice")
	st := store.NewTest(t, book.Index{})
	clock := time.UnixMilli(1_700_000_000_000)
	w, err := graph.NewWriter(ctx, alice, st, func() time.Time { return clock })
	require.NoError(t, err)

	es, err := w.Append(ctx, contact("c1", "Ann"), contact("c2", "Bob"))
	require.NoError(t, err)
	require.Len(t, es, 2)
	if es[0].Seq != 1 || es[1].Seq != 2 || !es[1].Prev.Equals(es[0].CID) {
		t.Fatalf("chain = seq %d, %d prev %s; want 1, 2 prev %s", es[0].Seq, es[1].Seq, es[1].Prev, es[0].CID)
	}
	clock = clock.Add(-time.Hour) // a clock that jumps back must not reorder the fold
	es2, err := w.Append(ctx, contact("c1", "Ann Lee"))
	require.NoError(t, err)
	if es2[0].Time < es[1].Time {
		t.Errorf("time went backwards: %d < %d", es2[0].Time, es[1].Time)
	}

	r, err := st.Record(ctx, alice.PeerID(), graph.KindContact, "c1")
	require.NoError(t, err)
	if got := r.Body.Card.First("fn"); got != "Ann Lee" {
		t.Errorf("fold c1 fn = %q, want %q", got, "Ann Lee")
	}
	h, err := st.Head(ctx, alice.PeerID())
	require.NoError(t, err)
	if h.Seq != 3 || w.Head().Seq != 3 {
		t.Errorf("head = %d/%d, want 3", h.Seq, w.Head().Seq)
	}

	// A reopened writer continues the same log.
	w2, err := graph.NewWriter(ctx, alice, st, nil)
	require.NoError(t, err)
	es3, err := w2.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: "c2", Del: true}, To: graph.Audience{Self: true}})
	require.NoError(t, err)
	require.Equal(t, uint64(4), es3[0].Seq)
	live, err := st.Records(ctx, alice.PeerID(), graph.KindContact)
	require.NoError(t, err)
	if len(live) != 1 || live[0].Key != "c1" {
		t.Errorf("live contacts = %v, want only c1", live)
	}
}

func TestSealOpenAudiences(t *testing.T) {
	alice := identity.NewTest(t, "alice")
	bob := identity.NewTest(t, "bob")
	carol := identity.NewTest(t, "carol")
	body := &graph.Body{Kind: graph.KindCard, Key: "friends", Card: &graph.Card{Fields: []graph.Field{{Name: "email", Value: "a@example.org"}}}}
	tests := []struct {
		name     string
		aud      graph.Audience
		canRead  []*identity.Identity
		cantRead []*identity.Identity
	}{
		{"self", graph.Audience{Self: true}, []*identity.Identity{alice}, []*identity.Identity{bob, carol}},
		{"public", graph.Audience{Public: true}, []*identity.Identity{alice, bob, carol}, nil},
		{"readers", graph.Audience{Readers: []graph.Reader{
			{ID: bob.PeerID(), EncKey: bob.EncryptionKey()},
			{ID: alice.PeerID(), EncKey: alice.EncryptionKey()},
		}}, []*identity.Identity{alice, bob}, []*identity.Identity{carol}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aud, sealed, err := graph.Seal(alice, tc.aud, body)
			require.NoError(t, err)
			e := &spec.Entry{V: spec.Version, Author: []byte(alice.PeerID()), Seq: 1, Aud: aud, Body: sealed}
			for _, id := range tc.canRead {
				got, err := graph.Open(id, e)
				require.NoError(t, err, "Open as %s", id.PeerID())
				require.Equal(t, body, got)
			}
			for _, id := range tc.cantRead {
				if _, err := graph.Open(id, e); !errors.Is(err, graph.ErrNotForMe) {
					t.Errorf("Open as outsider: err = %v, want ErrNotForMe", err)
				}
			}
			// Tampering with the ciphertext is detected, not misread.
			if !tc.aud.Public {
				bad := *e
				bad.Body = append([]byte(nil), sealed...)
				bad.Body[len(bad.Body)-1] ^= 1
				if _, err := graph.Open(alice, &bad); !errors.Is(err, graph.ErrDecrypt) {
					t.Errorf("Open tampered: err = %v, want ErrDecrypt", err)
				}
			}
		})
	}
}

func TestVerifyAndReplicate(t *testing.T) {
	ctx := t.Context()
	alice := identity.NewTest(t, "alice")
	src := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, alice, src, nil)
	require.NoError(t, err)
	es, err := w.Append(ctx, contact("c1", "Ann"), contact("c2", "Bob"), contact("c3", "Cy"))
	require.NoError(t, err)

	// A replica (a friend's node) verifies and stores entries it cannot read.
	bob := identity.NewTest(t, "bob")
	dst := store.NewTest(t, book.Index{})
	var got []*graph.Entry
	for _, e := range es {
		v, err := graph.Verify(e.Raw, graph.Opener(bob))
		require.NoError(t, err)
		if v.Body != nil {
			t.Fatalf("bob read alice's self entry")
		}
		got = append(got, v)
	}
	// Out of order is refused, whole batch.
	if err := dst.Put(ctx, []*graph.Entry{got[1]}); !errors.Is(err, spec.ErrBadSeq) {
		t.Fatalf("Put out of order: err = %v, want ErrBadSeq", err)
	}
	require.NoError(t, dst.Put(ctx, got))
	require.NoError(t, dst.Put(ctx, got), "re-putting held entries is a no-op")

	// A fork: a different entry at a held seq is refused and kept as evidence.
	other, err := graph.NewWriter(ctx, alice, store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	forked, err := other.Append(ctx, contact("x", "Mallory"))
	require.NoError(t, err)
	if err := dst.Put(ctx, forked); !errors.Is(err, graph.ErrFork) {
		t.Fatalf("Put fork: err = %v, want ErrFork", err)
	}
	// Everything further from a forked author is held back.
	if err := dst.Put(ctx, got); !errors.Is(err, graph.ErrForked) {
		t.Fatalf("Put after fork: err = %v, want ErrForked", err)
	}
	stats, err := dst.Stats(ctx)
	require.NoError(t, err)
	if stats.Entries != 3 || stats.Forks != 1 {
		t.Errorf("stats = %+v, want 3 entries, 1 fork", stats)
	}
}

func TestVersionAfter(t *testing.T) {
	a := graph.Version{Time: 10, Author: "a", Seq: 1}
	tests := []struct {
		name string
		v, w graph.Version
		want bool
	}{
		{"later time", graph.Version{Time: 11, Author: "a", Seq: 1}, a, true},
		{"earlier time", graph.Version{Time: 9, Author: "z", Seq: 9}, a, false},
		{"tie, bigger author", graph.Version{Time: 10, Author: "b", Seq: 1}, a, true},
		{"tie, bigger seq", graph.Version{Time: 10, Author: "a", Seq: 2}, a, true},
		{"equal", a, a, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.After(tc.w); got != tc.want {
				t.Errorf("%+v.After(%+v) = %v, want %v", tc.v, tc.w, got, tc.want)
			}
		})
	}
}

func TestWriterConcurrentAppends(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{}) // its cleanup re-verifies the whole chain
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				_, err := w.Append(ctx, contact(fmt.Sprintf("g%d-%d", g, i), "x"), contact(fmt.Sprintf("g%d-%d-b", g, i), "y"))
				if err != nil {
					t.Errorf("Append: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	h, err := st.Head(ctx, me.PeerID())
	require.NoError(t, err)
	require.Equal(t, uint64(8*20*2), h.Seq)
}

// flaky fails the Put calls it is told to.
type flaky struct {
	graph.Store
	fail atomic.Int32
}

func (f *flaky) Put(ctx context.Context, es []*graph.Entry) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("disk on fire")
	}
	return f.Store.Put(ctx, es)
}

func TestWriterRecoversAfterFailedPut(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := &flaky{Store: store.NewTest(t, book.Index{})}
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	_, err = w.Append(ctx, contact("a", "A"))
	require.NoError(t, err)
	st.fail.Store(1)
	_, err = w.Append(ctx, contact("b", "B"))
	require.Error(t, err)
	es, err := w.Append(ctx, contact("c", "C"))
	require.NoError(t, err, "the writer must recover from a failed store")
	require.Equal(t, uint64(2), es[0].Seq, "the failed append's seq is reused")
}

// A keys entry must carry a key cards can be sealed to: a low-order point
// would make every card sealed to its author fail for all readers.
func TestKeysBodyRefusesLowOrderKey(t *testing.T) {
	good := identity.NewTest(t, "k").EncryptionKey()
	for name, key := range map[string][]byte{
		"all zero":  make([]byte, 32),
		"order 1":   append([]byte{1}, make([]byte, 31)...),
		"too short": good[:31],
	} {
		raw, err := spec.Marshal(graph.Body{Kind: graph.KindKeys, Enc: key})
		require.NoError(t, err)
		if _, err := graph.DecodeBody(raw); !errors.Is(err, graph.ErrBadBody) {
			t.Errorf("%s: DecodeBody = %v, want ErrBadBody", name, err)
		}
	}
	raw, err := spec.Marshal(graph.Body{Kind: graph.KindKeys, Enc: good})
	require.NoError(t, err)
	_, err = graph.DecodeBody(raw)
	require.NoError(t, err)
}

// A store that lost the end of its own log gets it back from a friend's
// copy; the writer continues after it. A diverged copy is refused without
// recording a fork against oneself.
func TestWriterAdopt(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	full := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, me, full, nil)
	require.NoError(t, err)
	es, err := w.Append(ctx, contact("a", "Ann"), contact("b", "Bob"), contact("c", "Cy"))
	require.NoError(t, err)

	// This store kept only the first entry; the writer is already running.
	lossy := store.NewTest(t, book.Index{})
	require.NoError(t, lossy.Put(ctx, es[:1]))
	w2, err := graph.NewWriter(ctx, me, lossy, nil)
	require.NoError(t, err)
	n, err := w2.Adopt(ctx, es) // the first is held and skipped
	require.NoError(t, err)
	require.Equal(t, 2, n)
	more, err := w2.Append(ctx, contact("d", "Dee"))
	require.NoError(t, err)
	require.EqualValues(t, 4, more[0].Seq, "the writer continues after the adopted entries")
	n, err = w2.Adopt(ctx, es)
	require.NoError(t, err)
	require.Zero(t, n, "adopting held entries again is a no-op")

	// A store that wrote its own seq 2 after the loss: the friend's 2 and 3
	// are another history. Refused, nothing recorded, writing goes on.
	diverged := store.NewTest(t, book.Index{})
	require.NoError(t, diverged.Put(ctx, es[:1]))
	w3, err := graph.NewWriter(ctx, me, diverged, nil)
	require.NoError(t, err)
	_, err = w3.Append(ctx, contact("x", "Xan"))
	require.NoError(t, err)
	_, err = w3.Adopt(ctx, es)
	require.ErrorIs(t, err, spec.ErrBadPrev)
	_, err = w3.Append(ctx, contact("y", "Yael"))
	require.NoError(t, err)
	st, err := diverged.Stats(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Forks)
	require.EqualValues(t, 3, st.Entries)

	// A copy that switches branch after a good first link is refused whole:
	// no fork evidence is ever recorded against myself.
	branch := store.NewTest(t, book.Index{}) // 1 2' 3'
	require.NoError(t, branch.Put(ctx, es[:1]))
	wb, err := graph.NewWriter(ctx, me, branch, nil)
	require.NoError(t, err)
	other2, err := wb.Append(ctx, contact("p", "Pia"), contact("q", "Quin"))
	require.NoError(t, err)
	short := store.NewTest(t, book.Index{}) // only seq 1
	require.NoError(t, short.Put(ctx, es[:1]))
	w4, err := graph.NewWriter(ctx, me, short, nil)
	require.NoError(t, err)
	_, err = w4.Adopt(ctx, []*graph.Entry{es[1], other2[1]}) // 2, then 3'
	require.ErrorIs(t, err, spec.ErrBadPrev)
	st, err = short.Stats(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Forks)
	_, err = w4.Append(ctx, contact("z", "Zed"))
	require.NoError(t, err)

	// Someone else's entries are never adopted into my log.
	other, err := graph.NewWriter(ctx, identity.NewTest(t, "other"), store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	oes, err := other.Append(ctx, contact("o", "Oz"))
	require.NoError(t, err)
	_, err = w2.Adopt(ctx, oes)
	require.Error(t, err)
}

// TestPhraseOpensWhatTheAuthorWrote: an identity rebuilt from the recovery
// phrase alone opens the self-sealed and reader-sealed bodies the original
// wrote; an identity with the same signing key but another data key (a
// device key without D) opens neither.
func TestPhraseOpensWhatTheAuthorWrote(t *testing.T) {
	root, err := identity.NewRoot(nil)
	require.NoError(t, err)
	orig, err := root.Identity()
	require.NoError(t, err)
	bob := identity.NewTest(t, "bob")
	body := &graph.Body{Kind: graph.KindCard, Key: "friends", Card: &graph.Card{Fields: []graph.Field{{Name: "email", Value: "a@example.org"}}}}
	var entries []*spec.Entry
	for _, aud := range []graph.Audience{
		{Self: true},
		{Readers: []graph.Reader{{ID: orig.PeerID(), EncKey: orig.EncryptionKey()}, {ID: bob.PeerID(), EncKey: bob.EncryptionKey()}}},
	} {
		a, sealed, err := graph.Seal(orig, aud, body)
		require.NoError(t, err)
		entries = append(entries, &spec.Entry{V: spec.Version, Author: []byte(orig.PeerID()), Seq: 1, Aud: a, Body: sealed})
	}

	recovered, _, err := identity.FromPhrase(root.Phrase())
	require.NoError(t, err)
	require.Equal(t, orig.PeerID(), recovered.PeerID())
	signerOnly, err := identity.FromKeys(orig.Seed(), make([]byte, identity.DataKeySize), nil)
	require.NoError(t, err)
	for i, e := range entries {
		got, err := graph.Open(recovered, e)
		require.NoError(t, err, "entry %d opened by the recovered identity", i)
		require.Equal(t, body, got)
		// Without D: the self key does not decrypt, and no slot carries
		// the tag of another X25519 key.
		if _, err := graph.Open(signerOnly, e); !errors.Is(err, graph.ErrDecrypt) && !errors.Is(err, graph.ErrNotForMe) {
			t.Errorf("entry %d opened without the data key: err = %v, want %v or %v", i, err, graph.ErrDecrypt, graph.ErrNotForMe)
		}
	}
}
