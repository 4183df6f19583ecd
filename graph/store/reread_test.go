package store_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// Entries an older reader kept unread are folded once a newer reader opens
// them: once per reader version, and only those it can read.
func TestReread(t *testing.T) {
	ctx := t.Context()
	me, bob, carol := identity.NewTest(t, "me"), identity.NewTest(t, "bob"), identity.NewTest(t, "carol")
	// Bob's log, as bob wrote it: a card for me, one for carol only, a
	// public one.
	w, err := graph.NewWriter(ctx, bob, store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	to := func(ids ...*identity.Identity) graph.Audience {
		var a graph.Audience
		for _, id := range ids {
			a.Readers = append(a.Readers, graph.Reader{ID: id.PeerID(), EncKey: id.EncryptionKey()})
		}
		return a
	}
	es, err := w.Append(ctx,
		graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: "friends", Card: card("fn", "Bobby Tables")}, To: to(me, carol)},
		graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: "work", Card: card("fn", "Robert")}, To: to(carol)},
		graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "public"}, To: graph.Audience{Public: true}},
	)
	require.NoError(t, err)
	// My store holds it as an older kith did: unread.
	st := store.NewTest(t, book.Index{})
	var unread []*graph.Entry
	for _, e := range es {
		c := *e
		c.Body = nil
		unread = append(unread, &c)
	}
	require.NoError(t, st.Put(ctx, unread))
	open := graph.Opener(me)
	rep, err := st.Check(ctx, open)
	require.NoError(t, err)
	require.Len(t, rep.Problems, 2, "before rereading, Check finds two readable entries not folded: %v", rep.Problems)

	// A reader that still cannot read them records the version all the same.
	older := func(*spec.Entry) (*graph.Body, error) { return nil, errors.New("unknown kind") }
	n, err := st.Reread(ctx, older, 1)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = st.Reread(ctx, open, 1)
	require.NoError(t, err)
	require.Zero(t, n, "version 1 was read already")

	// The next version reads what is for me, folds and indexes it.
	n, err = st.Reread(ctx, open, 2)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	r, err := st.Record(ctx, bob.PeerID(), graph.KindCard, "friends")
	require.NoError(t, err)
	require.Equal(t, "Bobby Tables", r.Body.Card.DisplayName())
	_, err = st.Record(ctx, bob.PeerID(), graph.KindCard, "work")
	require.ErrorIs(t, err, graph.ErrNotFound, "carol's card stays unread")
	_, err = st.Record(ctx, bob.PeerID(), graph.KindCircle, "public")
	require.NoError(t, err)
	found, err := st.Search(ctx, bob.PeerID(), graph.KindCard, "tables", 0)
	require.NoError(t, err)
	require.Len(t, found, 1, "the reread card is searchable")
	rep, err = st.Check(ctx, open)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Problems)

	n, err = st.Reread(ctx, open, 2)
	require.NoError(t, err)
	require.Zero(t, n, "a second start reads nothing again")

	// A downgrade: the older reader keeps bob's next card unread. Going
	// back up reads it.
	es, err = w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCard, Key: "family", Card: card("fn", "Bob Family")}, To: to(me)})
	require.NoError(t, err)
	n, err = st.Reread(ctx, older, 1)
	require.NoError(t, err)
	require.Zero(t, n)
	c := *es[0]
	c.Body = nil
	require.NoError(t, st.Put(ctx, []*graph.Entry{&c}))
	n, err = st.Reread(ctx, open, 2)
	require.NoError(t, err)
	require.Equal(t, 1, n, "after a downgrade and an upgrade, what the older reader kept unread is read")
	_, err = st.Record(ctx, bob.PeerID(), graph.KindCard, "family")
	require.NoError(t, err)
}
