package node_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/multiformats/go-multihash"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// The tests of this file act out a person's store going back in time (an
// old backup of kith.db, a home holding the key alone, a damaged store)
// while a friend holds the newer log. They keep their own helpers (bk…).

// bkNet is a mocknet of Kith nodes, each on a host that outlives its node
// (a restart keeps the peer's host, as a daemon keeps its key).
type bkNet struct {
	t  *testing.T
	mn mocknet.Mocknet
	i  int
}

func newBKNet(t *testing.T) *bkNet {
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	return &bkNet{t: t, mn: mn}
}

func (b *bkNet) host(label string) host.Host {
	b.t.Helper()
	b.i++
	h, err := b.mn.AddPeer(identity.NewTest(b.t, label).PrivKey(), ma.StringCast(fmt.Sprintf("/ip6/100::%x/tcp/4242", b.i)))
	require.NoError(b.t, err)
	require.NoError(b.t, b.mn.LinkAll())
	return h
}

// add starts a new node (a fresh log) on a new host.
func (b *bkNet) add(label string, opts ...node.Option) *node.Node {
	b.t.Helper()
	return node.NewTest(b.t, label, append([]node.Option{node.WithHost(b.host(label))}, opts...)...)
}

// restart starts label's node again on host h with store st.
func (b *bkNet) restart(label string, h host.Host, st *store.Store, opts ...node.Option) *node.Node {
	b.t.Helper()
	n, err := node.New(b.t.Context(), append([]node.Option{node.WithIdentity(identity.NewTest(b.t, label)), node.WithStore(st),
		node.WithHost(h), node.WithTuning(node.FastTimers)}, opts...)...)
	require.NoError(b.t, err)
	b.t.Cleanup(func() { n.Close() })
	return n
}

func bkEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func bkConnect(t *testing.T, a, b *node.Node) {
	t.Helper()
	inv, err := a.Invite(t.Context(), api.InviteRequest{Circles: []string{"friends"}})
	require.NoError(t, err)
	res, err := b.Connect(t.Context(), api.ConnectRequest{Target: inv.Code})
	require.NoError(t, err)
	require.Equal(t, "accepted", res.Status)
	bkEventually(t, "both sides list the connection", func() bool { return bkIsPeer(t, a, b.Host().ID()) && bkIsPeer(t, b, a.Host().ID()) })
}

func bkIsPeer(t *testing.T, n *node.Node, p peer.ID) bool {
	ps, err := n.Peers(t.Context())
	require.NoError(t, err)
	return slices.ContainsFunc(ps, func(x api.Peer) bool { return x.PeerID == p })
}

// bkHead is the head of author's log in n's store.
func bkHead(t *testing.T, n *node.Node, author peer.ID) uint64 {
	h, err := n.Store().Head(context.Background(), author)
	require.NoError(t, err)
	return h.Seq
}

// bkSeen returns the values of field on p's card as n sees it.
func bkSeen(t *testing.T, n *node.Node, p peer.ID, field string) []string {
	ps, err := n.Peers(t.Context())
	require.NoError(t, err)
	for _, x := range ps {
		if x.PeerID == p {
			return x.Card.Values(field)
		}
	}
	return nil
}

// bkCopyStore copies the files of n's store (a backup of kith.db, taken
// while nothing writes) and returns the copy's path.
func bkCopyStore(t *testing.T, n *node.Node) string {
	t.Helper()
	src := n.Store().Path()
	dst := filepath.Join(t.TempDir(), "kith.db")
	for _, suffix := range []string{"", "-wal"} {
		in, err := os.Open(src + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		out, err := os.Create(dst + suffix)
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		require.NoError(t, err)
		require.NoError(t, out.Close())
		in.Close()
	}
	return dst
}

// bkOpen opens the store at path, checked and closed at cleanup.
func bkOpen(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), path, book.Index{})
	require.NoError(t, err)
	t.Cleanup(func() {
		rep, err := st.Check(context.Background(), nil)
		require.NoError(t, err)
		require.True(t, rep.OK(), "store %s: %v", path, rep.Problems)
		st.Close()
	})
	return st
}

func bkRequireClean(t *testing.T, n *node.Node) {
	t.Helper()
	rep, err := n.Check(t.Context())
	require.NoError(t, err)
	require.True(t, rep.OK(), "%s: kith check: %v", n.Host().ID(), rep.Problems)
	st, err := n.Status(t.Context())
	require.NoError(t, err)
	require.Zero(t, st.Forks, "%s holds fork evidence against %v", n.Host().ID(), st.Forked)
}

func bkContacts(t *testing.T, n *node.Node) []string {
	cs, err := n.Contacts(t.Context())
	require.NoError(t, err)
	var names []string
	for _, c := range cs {
		if c.Name != "" { // a connection's linked contact, before its card
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return names
}

var bkThree = []string{"Ada Lovelace", "Grace Hopper", "Katherine Johnson"}

func bkAddThree(t *testing.T, n *node.Node) {
	t.Helper()
	var cards []graph.Card
	for _, name := range bkThree {
		cards = append(cards, graph.Card{Fields: []graph.Field{{Name: "fn", Value: name}}})
	}
	_, err := n.AddContacts(t.Context(), cards)
	require.NoError(t, err)
}

// TestOldBackupDoesNotFork: alice's store goes back to a backup taken
// before she added three contacts that bob holds. Her first write after
// the restart waits until bob has told her her head, so it goes after
// those entries: her contacts come back, the note reaches bob, and bob
// holds no fork evidence against her.
func TestOldBackupDoesNotFork(t *testing.T) {
	ctx := t.Context()
	bn := newBKNet(t)
	alice, bob := bn.add("alice"), bn.add("bob")
	a := alice.Host().ID()
	bkConnect(t, alice, bob)
	bkEventually(t, "bob holds alice's log", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
	backup := bkCopyStore(t, alice)

	bkAddThree(t, alice)
	bkEventually(t, "bob holds the three contacts' entries", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
	held := bkHead(t, bob, a)

	h := alice.Host()
	require.NoError(t, alice.Close())
	require.NoError(t, bn.mn.DisconnectPeers(h.ID(), bob.Host().ID()))
	again := bn.restart("alice", h, bkOpen(t, backup))
	_, err := again.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{"back from holiday"}, Circles: []string{"friends"}})
	require.NoError(t, err)

	require.Equal(t, bkThree, bkContacts(t, again), "alice's contacts after the old backup")
	require.Greater(t, bkHead(t, again, a), held, "the note goes after the entries bob held")
	bkEventually(t, "bob sees alice's note", func() bool {
		return slices.Equal(bkSeen(t, bob, a, "note"), []string{"back from holiday"})
	})
	require.Equal(t, bkHead(t, again, a), bkHead(t, bob, a))
	bkRequireClean(t, bob)
	bkRequireClean(t, again)
}

// TestDivergedLogTakenBack: alice's store went back to an old backup and
// she wrote while no connection could tell her better (bob unreachable),
// so her log parted from the copy bob holds. When they meet, her node
// takes bob's history back and appends her note again on top: nothing is
// lost and bob sees no fork.
func TestDivergedLogTakenBack(t *testing.T) {
	ctx := t.Context()
	bn := newBKNet(t)
	alice, bob := bn.add("alice"), bn.add("bob")
	a, b := alice.Host().ID(), bob.Host().ID()
	bkConnect(t, alice, bob)
	bkEventually(t, "bob holds alice's log", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
	backup := bkCopyStore(t, alice)
	bkAddThree(t, alice)
	bkEventually(t, "bob holds the three contacts' entries", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
	held := bkHead(t, bob, a)

	h := alice.Host()
	require.NoError(t, alice.Close())
	require.NoError(t, bn.mn.UnlinkPeers(a, b))
	require.NoError(t, bn.mn.DisconnectPeers(a, b))
	again := bn.restart("alice", h, bkOpen(t, backup))
	start := time.Now()
	_, err := again.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{"written offline"}, Circles: []string{"friends"}})
	require.NoError(t, err, "a node whose connections are unreachable still writes")
	require.Less(t, time.Since(start), 10*time.Second)
	require.LessOrEqual(t, bkHead(t, again, a), held, "alice wrote over the entries bob holds: the divergence to resolve")

	_, err = bn.mn.LinkPeers(a, b)
	require.NoError(t, err)
	bkEventually(t, "alice takes bob's history back", func() bool {
		return slices.Equal(bkContacts(t, again), bkThree)
	})
	bkEventually(t, "bob sees alice's note", func() bool {
		return slices.Equal(bkSeen(t, bob, a, "note"), []string{"written offline"})
	})
	bkEventually(t, "bob holds alice's whole log", func() bool { return bkHead(t, bob, a) == bkHead(t, again, a) })
	require.Greater(t, bkHead(t, again, a), held)
	p, err := again.Me(ctx, "friends")
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(p.Fields, func(f api.ProfileField) bool { return f.Name == "note" && f.Value == "written offline" }),
		"alice's note is in her profile: %v", p.Fields)
	bkRequireClean(t, bob)
	bkRequireClean(t, again)
}

// TestWritesHeldBoundedTime: alice's only connection takes her sync
// streams and never answers. Her first write after a restart waits for
// the hold (writeHold), no longer, and goes.
func TestWritesHeldBoundedTime(t *testing.T) {
	ctx := t.Context()
	bn := newBKNet(t)
	alice, mallory := bn.add("alice"), bn.add("mallory")
	a := alice.Host().ID()
	bkConnect(t, alice, mallory)
	// Mallory's sync service hangs: it reads the request and says nothing.
	mallory.Host().SetStreamHandler(spec.ProtoSync, func(s network.Stream) {
		io.Copy(io.Discard, s)
	})
	h := alice.Host()
	st := alice.Store()
	require.NoError(t, alice.Close())
	const hold = time.Second
	again := bn.restart("alice", h, st, node.WithTuning(func(t *node.Tuning) { node.FastTimers(t); node.SetWriteHold(t, hold) }))
	start := time.Now()
	_, err := again.AddCircle(ctx, "after-restart")
	took := time.Since(start)
	require.NoError(t, err)
	require.GreaterOrEqual(t, took, hold/2, "the write went before the hold ended, though no connection told alice her head")
	require.Less(t, took, hold+5*time.Second, "the write waited past the hold")
	require.Greater(t, bkHead(t, again, a), uint64(0))
}

// TestNoConnectionsWriteAtOnce: a node without any connection has no one
// to learn its head from, and a node whose connections are unreachable
// learns that fast: neither waits for the hold.
func TestNoConnectionsWriteAtOnce(t *testing.T) {
	ctx := t.Context()
	bn := newBKNet(t)
	long := node.WithTuning(func(t *node.Tuning) { node.FastTimers(t); node.SetWriteHold(t, time.Hour) })
	solo := bn.add("solo", long)
	_, err := solo.AddCircle(ctx, "at-once")
	require.NoError(t, err)

	alice, bob := bn.add("alice"), bn.add("bob")
	bkConnect(t, alice, bob)
	h, st := alice.Host(), alice.Store()
	require.NoError(t, alice.Close())
	require.NoError(t, bob.Close())
	require.NoError(t, bn.mn.UnlinkPeers(h.ID(), bob.Host().ID()))
	require.NoError(t, bn.mn.DisconnectPeers(h.ID(), bob.Host().ID()))
	again := bn.restart("alice", h, st, long)
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err = again.AddCircle(wctx, "offline")
	require.NoError(t, err, "no connection reachable: the write goes without waiting for the hold")
}

// TestBogusHeadOfMyLog: a connection announces a head of my log far
// ahead of mine, with a made-up CID, and has no entries to give. My node
// asks, gets nothing, keeps its log and goes on writing; no fork evidence.
func TestBogusHeadOfMyLog(t *testing.T) {
	ctx := t.Context()
	bn := newBKNet(t)
	alice, mallory := bn.add("alice"), bn.add("mallory")
	a := alice.Host().ID()
	bkConnect(t, alice, mallory)
	before := bkHead(t, alice, a)
	mh, err := multihash.Sum([]byte("no such entry"), multihash.SHA2_256, -1)
	require.NoError(t, err)
	bogus := cid.NewCidV1(cid.DagCBOR, mh)
	for _, seq := range []uint64{1 << 40, before, before - 1} {
		str, err := mallory.Host().NewStream(ctx, a, spec.ProtoSync)
		require.NoError(t, err)
		pos := spec.LogPos{Author: []byte(a), Seq: seq, CID: bogus.Bytes()}
		req := &spec.SyncRequest{Have: []spec.LogPos{pos}, Want: []spec.LogPos{pos}}
		raw, err := spec.Marshal(req)
		require.NoError(t, err)
		w := bufio.NewWriter(str)
		require.NoError(t, spec.WriteFrame(w, raw))
		require.NoError(t, w.Flush())
		require.NoError(t, str.CloseWrite())
		io.Copy(io.Discard, str)
		str.Close()
	}
	for i := range 3 {
		_, err := alice.AddCircle(ctx, fmt.Sprintf("still-writing-%d", i))
		require.NoError(t, err)
	}
	require.Equal(t, before+3, bkHead(t, alice, a), "alice's log goes on from her own head")
	bkEventually(t, "mallory's node holds alice's new entries", func() bool { return bkHead(t, mallory, a) == bkHead(t, alice, a) })
	bkRequireClean(t, alice)
	bkRequireClean(t, mallory)
}

// TestRestoreKeyOnlyHome: alice's home held only her key. Restore from bob
// brings back her log (contacts, card, circles, her connection to bob)
// and bob's log, and she writes on without a fork.
func TestRestoreKeyOnlyHome(t *testing.T) {
	ctx := t.Context()
	bn := newBKNet(t)
	alice, bob := bn.add("alice"), bn.add("bob")
	a, b := alice.Host().ID(), bob.Host().ID()
	bkConnect(t, alice, bob)
	bkAddThree(t, alice)
	_, err := alice.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
	require.NoError(t, err)
	_, err = alice.AddCircle(ctx, "climbing")
	require.NoError(t, err)
	bkEventually(t, "bob holds alice's log", func() bool { return bkHead(t, bob, a) == bkHead(t, alice, a) })
	wantMe, err := alice.Me(ctx, "")
	require.NoError(t, err)
	wantCircles, err := alice.Circles(ctx)
	require.NoError(t, err)
	h := alice.Host()
	require.NoError(t, alice.Close())
	// What bob holds is what comes back (an entry alice wrote as she
	// closed, a card re-issued, may not have reached him).
	wantHead, bobHead := bkHead(t, bob, a), bkHead(t, bob, b)
	require.NoError(t, bn.mn.DisconnectPeers(a, b))
	again := bn.restart("alice", h, store.NewTest(t, book.Index{}))

	_, err = again.Restore(ctx, api.RestoreRequest{Target: "not a target"})
	require.ErrorIs(t, err, api.ErrInvalid)
	res, err := again.Restore(ctx, api.RestoreRequest{Target: b.String()})
	require.NoError(t, err)
	require.Equal(t, b, res.From)
	require.True(t, res.Connection)
	require.Len(t, res.Logs, 2)
	mine := res.Logs[0]
	require.True(t, mine.Mine && mine.Author == a, "the first log restored is mine: %+v", mine)
	// Bob's keys arriving may re-issue a card at once: an entry more.
	require.GreaterOrEqual(t, mine.Head, wantHead)
	require.GreaterOrEqual(t, mine.Entries, wantHead)
	require.Equal(t, b, res.Logs[1].Author)
	require.Equal(t, bobHead, res.Logs[1].Head)

	require.Equal(t, bkThree, bkContacts(t, again))
	gotMe, err := again.Me(ctx, "")
	require.NoError(t, err)
	require.Equal(t, wantMe, gotMe)
	gotCircles, err := again.Circles(ctx)
	require.NoError(t, err)
	require.Equal(t, wantCircles, gotCircles)
	require.True(t, bkIsPeer(t, again, b), "the connection to bob is back")
	_, err = again.SetMe(ctx, api.SetMeRequest{Field: "note", Values: []string{"new phone"}, Circles: []string{"friends"}})
	require.NoError(t, err)
	bkEventually(t, "bob takes alice's next entry", func() bool {
		return slices.Equal(bkSeen(t, bob, a, "note"), []string{"new phone"})
	})
	bkRequireClean(t, bob)
	bkRequireClean(t, again)
}
