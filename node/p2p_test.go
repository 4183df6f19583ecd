package node_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// net is a mocknet with Kith nodes on it.
type testNet struct {
	t  testing.TB
	mn mocknet.Mocknet
	i  int
	// timers are the nodes' timers: the daemon's in a synctest bubble,
	// where waiting is free; FastTimers (NewTest's) on the wall clock.
	timers func(*node.Tuning)
}

func newNet(t testing.TB) *testNet {
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	timers := node.FastTimers
	if isBubbled(t) {
		timers = node.DaemonTimers
	}
	return &testNet{t: t, mn: mn, timers: timers}
}

// add starts a node called label, linked to every node already there.
func (tn *testNet) add(label string, opts ...node.Option) *node.Node {
	tn.t.Helper()
	tn.i++
	id := identity.NewTest(tn.t, label)
	addr := ma.StringCast(fmt.Sprintf("/ip6/100::%x/tcp/4242", tn.i))
	h, err := tn.mn.AddPeer(id.PrivKey(), addr)
	require.NoError(tn.t, err)
	require.NoError(tn.t, tn.mn.LinkAll())
	return node.NewTest(tn.t, label, append([]node.Option{node.WithHost(h), node.WithTuning(tn.timers)}, opts...)...)
}

// connect makes a and b connections via an invite from a; b lands in
// aCircles on a's side, a in friends on b's side.
func connect(t testing.TB, a, b *node.Node, aCircles ...string) {
	t.Helper()
	ctx := t.Context()
	inv, err := a.Invite(ctx, api.InviteRequest{Circles: aCircles})
	require.NoError(t, err)
	res, err := b.Connect(ctx, api.ConnectRequest{Target: inv.Code, Note: "hi"})
	require.NoError(t, err)
	require.Equal(t, "accepted", res.Status)
	eventually(t, "both sides list the connection", func() bool {
		return hasPeer(t, a, b) && hasPeer(t, b, a)
	})
}

func hasPeer(t testing.TB, n, other *node.Node) bool {
	ps, err := n.Peers(t.Context())
	require.NoError(t, err)
	return slices.ContainsFunc(ps, func(p api.Peer) bool { return p.PeerID == other.Host().ID() })
}

// seen returns the values of field that n sees in other's shared card.
func seen(t testing.TB, n, other *node.Node, field string) []string {
	ps, err := n.Peers(t.Context())
	require.NoError(t, err)
	for _, p := range ps {
		if p.PeerID == other.Host().ID() {
			return p.Card.Values(field)
		}
	}
	return nil
}

func TestChangeOnceEverywhere(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob, carol := tn.add("alice"), tn.add("bob"), tn.add("carol")
		connect(t, alice, bob, "friends")
		connect(t, alice, carol, "work")

		_, err := alice.SetMe(ctx, api.SetMeRequest{Field: "adr", Values: []string{";;1 Main St;Springfield;;12345;USA"}, Circles: []string{"friends"}})
		require.NoError(t, err)
		_, err = alice.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}, Circles: []string{"friends", "work"}})
		require.NoError(t, err)

		eventually(t, "bob sees alice's address and name", func() bool {
			return slices.Equal(seen(t, bob, alice, "adr"), []string{";;1 Main St;Springfield;;12345;USA"}) &&
				slices.Equal(seen(t, bob, alice, "fn"), []string{"Alice"})
		})
		eventually(t, "carol sees alice's name", func() bool { return slices.Equal(seen(t, carol, alice, "fn"), []string{"Alice"}) })
		if got := seen(t, carol, alice, "adr"); len(got) != 0 {
			t.Errorf("carol (work only) sees alice's friends-only address %v", got)
		}
		// Bob's address book lists alice as a linked contact, with his notes.
		_, err = bob.EditContact(ctx, alice.Host().ID().String(), graph.Card{Fields: []graph.Field{{Name: "note", Value: "met at the dojo"}}})
		require.NoError(t, err)
		book, err := bob.Contacts(ctx)
		require.NoError(t, err)
		require.Len(t, book, 1)
		if c := book[0]; c.Peer != alice.Host().ID() || c.Name != "Alice" || c.Card.First("adr") == "" || c.Card.First("note") != "met at the dojo" {
			t.Errorf("bob's linked contact for alice = %+v", c)
		}
		// Search finds linked contacts by what they share and by my notes on
		// them; carol cannot find alice by a field she cannot read.
		for _, q := range []string{"springfield", "dojo", "alice"} {
			hits, err := bob.SearchContacts(ctx, q)
			require.NoError(t, err)
			if len(hits) != 1 || hits[0].Peer != alice.Host().ID() || hits[0].Card.First("note") != "met at the dojo" {
				t.Errorf("bob's search %q = %+v, want alice's linked contact with his note", q, hits)
			}
		}
		hits, err := carol.SearchContacts(ctx, "springfield")
		require.NoError(t, err)
		require.Empty(t, hits, "carol found alice by her friends-only address")
		hits, err = carol.SearchContacts(ctx, "alice")
		require.NoError(t, err)
		require.Len(t, hits, 1)

		// Carol holds alice's whole log, the friends card included, but cannot
		// read it: access is enforced by encryption.
		eventually(t, "carol holds alice's log", func() bool {
			return head(t, carol, alice) == head(t, alice, alice)
		})
		les, err := carol.Store().Log(ctx, alice.Host().ID(), 0, 0)
		require.NoError(t, err)
		unreadable := 0
		for _, le := range les {
			e, err := graph.Verify(le.Raw, nil)
			require.NoError(t, err)
			if _, err := graph.Open(identity.NewTest(t, "carol"), e.Entry); err != nil {
				unreadable++
			}
		}
		if unreadable == 0 {
			t.Errorf("carol could read every entry of alice's log")
		}

		// Offline: bob drops off, alice edits, bob comes back and catches up.
		require.NoError(t, tn.mn.UnlinkPeers(alice.Host().ID(), bob.Host().ID()))
		tn.mn.DisconnectPeers(alice.Host().ID(), bob.Host().ID())
		_, err = alice.SetMe(ctx, api.SetMeRequest{Field: "adr", Values: []string{";;2 Elm St;Springfield;;12345;USA"}, Circles: []string{"friends"}})
		require.NoError(t, err)
		idle(t) // alice's write has gone wherever it could
		require.Equal(t, []string{";;1 Main St;Springfield;;12345;USA"}, seen(t, bob, alice, "adr"))
		_, err = tn.mn.LinkPeers(alice.Host().ID(), bob.Host().ID())
		require.NoError(t, err)
		eventually(t, "bob catches up after reconnecting", func() bool {
			return slices.Equal(seen(t, bob, alice, "adr"), []string{";;2 Elm St;Springfield;;12345;USA"})
		})

		// Moving bob out of friends stops updates to him; he keeps what he had.
		require.NoError(t, alice.AssignCircles(ctx, api.AssignRequest{PeerID: bob.Host().ID().String(), Circles: []string{"work"}}))
		_, err = alice.SetMe(ctx, api.SetMeRequest{Field: "adr", Values: []string{";;3 Oak St;Springfield;;12345;USA"}, Circles: []string{"friends"}})
		require.NoError(t, err)
		eventually(t, "bob holds alice's newest entry", func() bool {
			return head(t, bob, alice) == head(t, alice, alice)
		})
		if got := seen(t, bob, alice, "adr"); slices.Contains(got, ";;3 Oak St;Springfield;;12345;USA") {
			t.Errorf("bob, moved out of friends, still gets friends updates: %v", got)
		}
	})
}

// TestNameSharedByDefault: a name set without a circle is what every
// connection sees; another field set without one stays private.
func TestNameSharedByDefault(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob, carol := tn.add("alice"), tn.add("bob"), tn.add("carol")
		connect(t, alice, bob, "friends")
		connect(t, alice, carol, "work")
		_, err := alice.SetMe(ctx, api.SetMeRequest{Field: "bday", Values: []string{"1990-05-04"}})
		require.NoError(t, err)
		_, err = alice.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice Liddell"}})
		require.NoError(t, err)
		for _, friend := range []*node.Node{bob, carol} {
			eventually(t, "a connection sees alice's name", func() bool {
				return slices.Equal(seen(t, friend, alice, "fn"), []string{"Alice Liddell"})
			})
			// The private birthday was written before the name: had it been
			// shared, it would be here by now.
			if got := seen(t, friend, alice, "bday"); len(got) != 0 {
				t.Errorf("a connection sees alice's private birthday %v", got)
			}
		}
		ps, err := bob.Peers(ctx)
		require.NoError(t, err)
		require.Equal(t, "Alice Liddell", ps[0].Name)
	})
}

func TestRequestAcceptDecline(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		var skew atomic.Int64 // alice's clock runs ahead by this
		aliceClock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		alice, dave, eve := tn.add("alice", node.WithClock(aliceClock)), tn.add("dave"), tn.add("eve")
		target := func(n *node.Node) string {
			return n.Host().Addrs()[0].String() + "/p2p/" + n.Host().ID().String()
		}
		res, err := alice.Connect(ctx, api.ConnectRequest{Target: target(dave), Note: "it's alice from the dojo"})
		require.NoError(t, err)
		require.Equal(t, "pending", res.Status)
		reqs, err := dave.Requests(ctx)
		require.NoError(t, err)
		require.Len(t, reqs, 1)
		require.Equal(t, "it's alice from the dojo", reqs[0].Note)
		require.Equal(t, alice.Host().ID(), reqs[0].PeerID)

		require.NoError(t, dave.Accept(ctx, api.AcceptRequest{PeerID: reqs[0].PeerID.String(), Circles: []string{"family"}}))
		eventually(t, "alice learns she was accepted", func() bool { return hasPeer(t, alice, dave) })
		ps, err := dave.Peers(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"family"}, ps[0].Circles)

		// Eve is declined and stays unconnected.
		res, err = eve.Connect(ctx, api.ConnectRequest{Target: dave.Host().ID().String()})
		require.NoError(t, err)
		require.Equal(t, "pending", res.Status)
		require.NoError(t, dave.Decline(ctx, eve.Host().ID().String()))
		eventually(t, "eve's request is gone on both sides", func() bool {
			r1, _ := eve.Requests(ctx)
			r2, _ := dave.Requests(ctx)
			return len(r1) == 0 && len(r2) == 0
		})
		if hasPeer(t, dave, eve) || hasPeer(t, eve, dave) {
			t.Error("declined peers are connected")
		}
		// Asking again does not put the request back in front of dave, and
		// eve is told.
		_, err = eve.Connect(ctx, api.ConnectRequest{Target: dave.Host().ID().String(), Note: "please?"})
		if !errors.Is(err, api.ErrDeclined) {
			t.Errorf("eve asks again after a decline: err = %v, want ErrDeclined", err)
		}
		reqs, err = dave.Requests(ctx)
		require.NoError(t, err)
		require.Empty(t, reqs, "a repeated request after a decline")

		// An invite works once.
		inv, err := alice.Invite(ctx, api.InviteRequest{})
		require.NoError(t, err)
		_, err = eve.Connect(ctx, api.ConnectRequest{Target: inv.Code})
		require.NoError(t, err)
		_, err = dave.Connect(ctx, api.ConnectRequest{Target: inv.Code})
		require.NoError(t, err, "dave was already alice's connection: a reused code changes nothing")
		eventually(t, "eve connected", func() bool { return hasPeer(t, alice, eve) })
		// A stranger with the used code is told so, and no request is kept.
		grace := tn.add("grace")
		_, err = grace.Connect(ctx, api.ConnectRequest{Target: inv.Code})
		if !errors.Is(err, api.ErrInviteInvalid) || !strings.Contains(err.Error(), "used") {
			t.Errorf("connect with a used code: err = %v, want ErrInviteInvalid saying so", err)
		}
		reqs, err = alice.Requests(ctx)
		require.NoError(t, err)
		require.Empty(t, reqs, "a used code left a request")
		reqs, err = grace.Requests(ctx)
		require.NoError(t, err)
		require.Empty(t, reqs, "a refused code left an outgoing request")

		// An expired code is not honoured: by alice, whose clock says so
		// (frank's does not yet)…
		frank := tn.add("frank")
		old, err := alice.Invite(ctx, api.InviteRequest{TTL: time.Minute})
		require.NoError(t, err)
		skew.Store(int64(2 * time.Minute))
		_, err = frank.Connect(ctx, api.ConnectRequest{Target: old.Code})
		if !errors.Is(err, api.ErrInviteInvalid) {
			t.Errorf("connect with a code alice sees expired: err = %v, want ErrInviteInvalid", err)
		}
		require.False(t, hasPeer(t, alice, frank), "an expired invite connected")
		// …and by frank himself, without asking alice, once his clock says so.
		late := tn.add("late", node.WithClock(func() time.Time { return time.Now().Add(time.Hour) }))
		_, err = late.Connect(ctx, api.ConnectRequest{Target: old.Code})
		if !errors.Is(err, api.ErrInviteInvalid) || !strings.Contains(err.Error(), "expired") {
			t.Errorf("connect with an expired code: err = %v, want ErrInviteInvalid saying it expired", err)
		}

		require.NoError(t, alice.Disconnect(ctx, eve.Host().ID().String()))
		if hasPeer(t, alice, eve) {
			t.Error("eve still listed after disconnect")
		}
	})
}

// TestDisconnectIsTold: the disconnected side hears of it, online at once
// or when it comes back, lists the peer as disconnected by them, and stops
// syncing with and redialing it; a new invite connects them again.
func TestDisconnectIsTold(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob, carol := tn.add("alice"), tn.add("bob"), tn.add("carol")
		connect(t, alice, bob, "friends")
		connect(t, alice, carol, "friends")
		droppedBy := func(n, other *node.Node) bool {
			ps, err := n.Peers(ctx)
			require.NoError(t, err)
			for _, p := range ps {
				if p.PeerID == other.Host().ID() {
					return p.DisconnectedByThem && p.DisconnectedAt != nil
				}
			}
			return false
		}

		// Online: told at once.
		require.NoError(t, alice.Disconnect(ctx, bob.Host().ID().String()))
		eventually(t, "bob hears alice disconnected him", func() bool { return droppedBy(bob, alice) })
		require.False(t, bob.SyncsWith(alice.Host().ID()), "bob still syncs with alice")
		eventually(t, "bob's node lets go of alice", func() bool {
			return len(bob.Host().Network().ConnsToPeer(alice.Host().ID())) == 0
		})
		require.False(t, droppedBy(alice, bob), "the side that disconnected is not 'disconnected by them'")

		// Offline: carol is away when alice disconnects her, and is told when
		// her node comes back and asks to sync.
		a, c := alice.Host().ID(), carol.Host().ID()
		require.NoError(t, tn.mn.UnlinkPeers(a, c))
		require.NoError(t, tn.mn.DisconnectPeers(a, c))
		require.NoError(t, alice.Disconnect(ctx, c.String()))
		require.False(t, droppedBy(carol, alice))
		_, err := tn.mn.LinkPeers(a, c)
		require.NoError(t, err)
		eventually(t, "carol hears it once back", func() bool { return droppedBy(carol, alice) })

		// A new invite connects alice and bob again.
		connect(t, alice, bob, "family")
		require.False(t, droppedBy(bob, alice), "still 'disconnected by them' after reconnecting")
		require.True(t, bob.SyncsWith(alice.Host().ID()))
		_, err = alice.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
		require.NoError(t, err)
		eventually(t, "bob gets alice's updates again", func() bool { return slices.Equal(seen(t, bob, alice, "fn"), []string{"Alice"}) })
	})
}

// head returns n's head seq of author's log.
func head(t testing.TB, n, author *node.Node) uint64 {
	h, err := n.Store().Head(context.Background(), author.Host().ID())
	require.NoError(t, err)
	return h.Seq
}

var _ = peer.ID("")
