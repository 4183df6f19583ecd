package node_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// A friend holds an entry of my log that my store lost (a restored
// backup of kith.db). Sync gives it back, and my node goes on writing
// after it instead of forking its own log.
func TestOwnLogRestoredFromFriend(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob := tn.add("alice"), tn.add("bob")
		connect(t, alice, bob, "friends")
		eventually(t, "bob holds alice's log", func() bool { return head(t, bob, alice) == head(t, alice, alice) })

		// Alice's entry N+1, which only bob holds.
		require.NoError(t, bob.Store().Put(ctx, elsewhere(t, alice, "alice", "lost")))

		// Bob writes anything: his announcement carries alice's head too.
		want := head(t, alice, alice) + 1
		_, err := bob.AddCircle(ctx, "poke")
		require.NoError(t, err)
		eventually(t, "alice restores her entry from bob", func() bool { return head(t, alice, alice) == want })
		circles, err := alice.Circles(ctx)
		require.NoError(t, err)
		require.Contains(t, circleNames(circles), "lost", "the restored entry is folded")

		for i := range 2 {
			_, err := alice.AddCircle(ctx, fmt.Sprintf("after%d", i))
			require.NoError(t, err, "writing after the restore")
		}
		st, err := alice.Store().Stats(ctx)
		require.NoError(t, err)
		require.Zero(t, st.Forks)
		eventually(t, "bob follows alice past the restored entry", func() bool { return head(t, bob, alice) == head(t, alice, alice) })
	})
}

// elsewhere returns the next entry of n's log (a new circle), written with
// n's key (label is n's test identity) on a copy of that log: what a node
// restored from an old backup, or a clone of the key, would write.
func elsewhere(t *testing.T, n *node.Node, label, circle string) []*graph.Entry {
	t.Helper()
	ctx := t.Context()
	les, err := n.Store().Log(ctx, n.Host().ID(), 0, 0)
	require.NoError(t, err)
	var es []*graph.Entry
	for _, le := range les {
		e, err := graph.Verify(le.Raw, nil)
		require.NoError(t, err)
		es = append(es, e)
	}
	scratch := store.NewTest(t, book.Index{})
	require.NoError(t, scratch.Put(ctx, es))
	w, err := graph.NewWriter(ctx, identity.NewTest(t, label), scratch, nil)
	require.NoError(t, err)
	out, err := w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: circle}, To: graph.Audience{Self: true}})
	require.NoError(t, err)
	return out
}

func circleNames(cs []api.Circle) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// A burst of writes, well over the receiver's inbound stream rate, still
// reaches a connected friend: announcements coalesce, and a refused one
// leaves a pull scheduled.
//
// It runs on the wall clock, not in a bubble: once each side has used up
// its limit for the other, a refused stream makes the refusing side pull
// from the other at once, which refuses it in turn, and so on, without a
// pause, until a token comes back. Fake time never moves on while that
// goes on, so in a bubble it never ends.
func TestBurstOfWritesReachesFriend(t *testing.T) {
	noLeaks(t)
	ctx := t.Context()
	tn := newNet(t)
	alice, bob := tn.add("alice"), tn.add("bob")
	connect(t, alice, bob, "friends")
	eventually(t, "alice holds bob's log", func() bool { return head(t, alice, bob) == head(t, bob, bob) })
	for i := range 150 {
		_, err := bob.AddCircle(ctx, fmt.Sprintf("c%03d", i))
		require.NoError(t, err)
	}
	eventually(t, "alice catches up with bob's burst", func() bool { return head(t, alice, bob) == head(t, bob, bob) })
}

// A validly signed, linked entry whose body this node cannot parse (a
// public entry of a kind from a newer kith) is kept unread; it does not
// stall the rest of the log.
func TestUnreadableEntryDoesNotStallLog(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, mallory := tn.add("alice"), tn.add("mallory")
		connect(t, alice, mallory, "friends")
		eventually(t, "alice holds mallory's log", func() bool { return head(t, alice, mallory) == head(t, mallory, mallory) })

		mid := identity.NewTest(t, "mallory")
		h, err := mallory.Store().Head(ctx, mallory.Host().ID())
		require.NoError(t, err)
		body, err := spec.Marshal(graph.Body{Kind: "device", Key: "phone"})
		require.NoError(t, err)
		se := &spec.Entry{V: spec.Version, Author: []byte(mid.PeerID()), Seq: h.Seq + 1, Prev: spec.LinkTo(h.CID),
			Time: h.Time + 1, Aud: spec.PublicAudience, Body: body}
		require.NoError(t, se.Sign(mid.Sign))
		raw, err := se.Encode()
		require.NoError(t, err)
		require.NoError(t, mallory.Store().Put(ctx, []*graph.Entry{{Entry: se, Raw: raw, CID: spec.CIDOf(raw), Author: mid.PeerID(), Identity: mid.PeerID()}}))
		// An ordinary entry after it, by a writer that knows the new head.
		w, err := graph.NewWriter(ctx, mid, mallory.Store(), nil)
		require.NoError(t, err)
		_, err = w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "later"}, To: graph.Audience{Self: true}})
		require.NoError(t, err)
		poke(t, mallory, alice)

		eventually(t, "alice gets past the unreadable entry", func() bool { return head(t, alice, mallory) == head(t, mallory, mallory) })
		requireConsistent(t, alice)
	})
}

// Two copies of one log of the same length but different last entries: the
// CID in the sync request makes the holder send its entry, and the fork is
// recorded.
func TestForkOfEqualLengthDetected(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob := tn.add("alice"), tn.add("bob")
		connect(t, alice, bob, "friends")
		eventually(t, "alice holds bob's log", func() bool { return head(t, alice, bob) == head(t, bob, bob) })
		// Bob's key writes seq N+1 twice: one copy reaches alice by hand, the
		// other is bob's own.
		require.NoError(t, alice.Store().Put(ctx, elsewhere(t, bob, "bob", "clone")))
		_, err := bob.AddCircle(ctx, "real") // the same seq, another entry; announced
		require.NoError(t, err)

		eventually(t, "alice records the fork", func() bool {
			st, err := alice.Store().Stats(ctx)
			require.NoError(t, err)
			return st.Forks == 1
		})
		s, err := alice.Status(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, s.Forks, "kith status shows the fork")
		require.Equal(t, []peer.ID{bob.Host().ID()}, s.Forked)
		ps, err := alice.Peers(ctx)
		require.NoError(t, err)
		require.True(t, ps[0].Forked, "kith peers flags bob")
		// Bob's further updates are held back at alice.
		held := head(t, alice, bob)
		_, err = bob.AddCircle(ctx, "more")
		require.NoError(t, err)
		idle(t) // bob's announcement, and any pull it set off, are done
		require.Equal(t, held, head(t, alice, bob), "entries of a forked author are held back")

		// Alice settles it: bob's log is taken again from bob's node as it is
		// now, and his updates flow again.
		_, err = bob.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Bob"}, Circles: []string{"friends"}})
		require.NoError(t, err)
		dropped, err := alice.ResolveFork(ctx, bob.Host().ID().String())
		require.NoError(t, err)
		require.Positive(t, dropped)
		eventually(t, "alice takes bob's log again", func() bool { return head(t, alice, bob) == head(t, bob, bob) })
		eventually(t, "alice sees bob's card", func() bool { return slices.Equal(seen(t, alice, bob, "fn"), []string{"Bob"}) })
		s, err = alice.Status(ctx)
		require.NoError(t, err)
		require.Zero(t, s.Forks)
		require.Empty(t, s.Forked)
		_, err = alice.ResolveFork(ctx, bob.Host().ID().String())
		require.ErrorIs(t, err, api.ErrNotFound, "nothing left to resolve")
		requireConsistent(t, alice)
	})
}

// A flood of requests from throwaway identities does not make the node
// turn real people away, and it does not lie to them: the queue's limit
// holds under concurrent requests, one address fills only its share, a
// request not kept is answered "busy" (never "pending"), and requests
// expire.
func TestRequestQueueFull(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		var skew atomic.Int64 // alice's clock runs ahead by this
		alice := tn.add("alice", node.WithClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }),
			node.WithTuning(func(t *node.Tuning) { t.SetRequestLimits(6, 2, 7*24*time.Hour) }))
		ask := func(n *node.Node) error {
			res, err := n.Connect(ctx, api.ConnectRequest{Target: alice.Host().ID().String()})
			if err == nil && res.Status != "pending" {
				return fmt.Errorf("status %q", res.Status)
			}
			return err
		}
		// Three identities behind one address: two are kept.
		var spam []*node.Node
		for i := range 3 {
			spam = append(spam, tn.addAt(fmt.Sprintf("spam-nat%d", i), "/ip6/100::aa/tcp/4242"))
		}
		require.NoError(t, ask(spam[0]))
		require.NoError(t, ask(spam[1]))
		require.ErrorIs(t, ask(spam[2]), api.ErrBusy, "a third request from one address")
		// Eight more at once, each from its own address, for four places.
		var flood []*node.Node
		for i := range 8 {
			flood = append(flood, tn.add(fmt.Sprintf("spam%d", i)))
		}
		errs := make([]error, len(flood))
		var wg sync.WaitGroup
		for i, s := range flood {
			wg.Go(func() { errs[i] = ask(s) })
		}
		wg.Wait()
		reqs, err := alice.Requests(ctx)
		require.NoError(t, err)
		kept := map[peer.ID]bool{}
		for _, r := range reqs {
			kept[r.PeerID] = true
		}
		require.Len(t, kept, 6, "the limit holds under a concurrent flood")
		for i, s := range flood {
			switch {
			case errs[i] == nil:
				require.True(t, kept[s.Host().ID()], "%s was told pending but its request was not kept", s.Host().ID())
			case errors.Is(errs[i], api.ErrBusy):
				require.False(t, kept[s.Host().ID()], "%s was told busy but its request was kept", s.Host().ID())
			default:
				t.Fatalf("request %d: %v", i, errs[i])
			}
		}

		// A real person is told plainly, and keeps nothing pending.
		carol := tn.add("carol")
		err = ask(carol)
		require.ErrorIs(t, err, api.ErrBusy, "a full queue must not answer pending (or declined)")
		require.Contains(t, err.Error(), "ask again later")
		rs, err := carol.Requests(ctx)
		require.NoError(t, err)
		require.Empty(t, rs, "carol holds no request the other side did not keep")

		// A week on, the flood has expired and carol gets in.
		skew.Store(int64(7*24*time.Hour + time.Minute))
		reqs, err = alice.Requests(ctx)
		require.NoError(t, err)
		require.Empty(t, reqs, "requests expire")
		require.NoError(t, ask(carol))
		reqs, err = alice.Requests(ctx)
		require.NoError(t, err)
		require.Len(t, reqs, 1)
		require.Equal(t, carol.Host().ID(), reqs[0].PeerID)

		// What alice keeps per peer goes when they do.
		require.Equal(t, 12, alice.Limiters())
		for _, sp := range append(spam, flood...) {
			require.NoError(t, tn.mn.DisconnectPeers(alice.Host().ID(), sp.Host().ID()))
		}
		eventually(t, "alice drops the rate limiters of peers that left", func() bool { return alice.Limiters() == 1 })
	})
}

// Fork evidence against a node's own log (left by an older version) is
// dropped when the node starts: its own history wins locally, and it must
// be able to write.
func TestNoForkEvidenceAgainstSelf(t *testing.T) {
	ctx := t.Context()
	n1 := node.NewTest(t, "solo")
	st := n1.Store()
	other := elsewhere(t, n1, "solo", "clone")
	_, err := n1.AddCircle(ctx, "real")
	require.NoError(t, err)
	require.ErrorIs(t, st.Put(ctx, other), graph.ErrFork)
	require.NoError(t, n1.Close())

	n2, err := node.New(ctx, node.WithIdentity(identity.NewTest(t, "solo")), node.WithStore(st))
	require.NoError(t, err)
	defer n2.Close()
	_, err = n2.AddCircle(ctx, "after")
	require.NoError(t, err)
	s, err := n2.Status(ctx)
	require.NoError(t, err)
	require.Zero(t, s.Forks)
}

// After an upgrade, a node reads what it kept unread before: here a card a
// friend sealed to it that an older reader refused.
func TestUnreadEntriesReadAfterUpgrade(t *testing.T) {
	ctx := t.Context()
	alice := node.NewTest(t, "alice")
	aliceID, bob := identity.NewTest(t, "alice"), identity.NewTest(t, "bob")
	w, err := graph.NewWriter(ctx, bob, store.NewTest(t, book.Index{}), nil)
	require.NoError(t, err)
	es, err := w.Append(ctx, graph.Draft{
		Body: graph.Body{Kind: graph.KindCard, Key: "friends", Card: &graph.Card{Fields: []graph.Field{{Name: "fn", Value: "Bob"}}}},
		To:   graph.Audience{Readers: []graph.Reader{{ID: aliceID.PeerID(), EncKey: aliceID.EncryptionKey()}}},
	})
	require.NoError(t, err)
	kept := *es[0]
	kept.Body = nil // as the older reader stored it
	require.NoError(t, alice.Store().Put(ctx, []*graph.Entry{&kept}))
	require.NoError(t, alice.Close())

	upgraded, err := node.New(ctx, node.WithIdentity(aliceID), node.WithStore(alice.Store()), node.WithReaderVersion(graph.ReaderVersion+1))
	require.NoError(t, err)
	defer upgraded.Close()
	r, err := alice.Store().Record(ctx, bob.PeerID(), graph.KindCard, "friends")
	require.NoError(t, err, "the upgraded node folds bob's card")
	require.Equal(t, "Bob", r.Body.Card.DisplayName())
	requireConsistent(t, upgraded)
}

// requireConsistent fails the test unless n's store passes kith check:
// every entry verifies, and the views match the logs.
func requireConsistent(t *testing.T, n *node.Node) {
	t.Helper()
	rep, err := n.Check(t.Context())
	require.NoError(t, err)
	require.True(t, rep.OK(), "%s's store: %v", n.Host().ID(), rep.Problems)
}

// TestKeyOnlyRestoredByFriend: a node whose home held only the key (a
// fresh store) writes nothing, and takes its whole log back from a friend
// that redials it, instead of starting a new log that would fork it.
func TestKeyOnlyRestoredByFriend(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob := tn.add("alice"), tn.add("bob")
		connect(t, alice, bob, "friends")
		_, err := alice.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
		require.NoError(t, err)
		eventually(t, "bob holds alice's whole log", func() bool { return head(t, bob, alice) == head(t, alice, alice) })
		want := head(t, alice, alice)

		h := alice.Host()
		require.NoError(t, alice.Close())
		again, err := node.New(ctx, node.WithIdentity(identity.NewTest(t, "alice")), node.WithStore(store.NewTest(t, book.Index{})), node.WithHost(h))
		require.NoError(t, err, "a key without its log must start")
		t.Cleanup(func() { again.Close() })
		_, err = again.SetMe(ctx, api.SetMeRequest{Field: "email", Values: []string{"alice@example.org"}})
		if !errors.Is(err, api.ErrNoLog) {
			t.Errorf("a write before the log is back: err = %v, want ErrNoLog", err)
		}
		// Bob's node redials it, as after a restart.
		require.NoError(t, tn.mn.DisconnectPeers(h.ID(), bob.Host().ID()))
		eventually(t, "alice's log is back", func() bool { return head(t, again, alice) >= want })
		eventually(t, "alice knows bob again", func() bool { return hasPeer(t, again, bob) })
		p, err := again.Me(ctx, "friends")
		require.NoError(t, err)
		require.Equal(t, "Alice", p.Fields[0].Value)
		_, err = again.SetMe(ctx, api.SetMeRequest{Field: "email", Values: []string{"alice@example.org"}, Circles: []string{"friends"}})
		require.NoError(t, err)
		eventually(t, "bob takes alice's next entries: no fork", func() bool {
			return slices.Equal(seen(t, bob, alice, "email"), []string{"alice@example.org"})
		})
	})
}
