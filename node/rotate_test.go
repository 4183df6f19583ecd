package node_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// rotPhrase is keys.json's zero-root phrase.
const rotPhrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
	"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"

// rotNet is a mocknet for rotation tests (after p2p_test.go's newNet).
type rotNet struct {
	t  testing.TB
	mn mocknet.Mocknet
	i  int
}

func newRotNet(t testing.TB) *rotNet {
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	return &rotNet{t: t, mn: mn}
}

// host adds a mocknet host for id, linked to every other.
func (rn *rotNet) host(id *identity.Identity) host.Host {
	rn.t.Helper()
	rn.i++
	h, err := rn.mn.AddPeer(id.PrivKey(), ma.StringCast(fmt.Sprintf("/ip6/100::%x/tcp/4242", rn.i)))
	require.NoError(rn.t, err)
	require.NoError(rn.t, rn.mn.LinkAll())
	return h
}

// homeNode starts a node on home's key file and store.
func (rn *rotNet) homeNode(home string) *node.Node {
	rn.t.Helper()
	id, err := identity.Keystore{Dir: home}.Load(nil)
	require.NoError(rn.t, err)
	n, err := node.New(rn.t.Context(), node.WithIdentity(id), node.WithHome(home), node.WithHost(rn.host(id)),
		node.WithTuning(node.FastTimers))
	require.NoError(rn.t, err)
	rn.t.Cleanup(func() { n.Close() })
	return n
}

// phraseHome makes a home from rotPhrase with a log whose genesis commits
// to the phrase's recovery key.
func phraseHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	_, err := node.Recover(t.Context(), home, rotPhrase, nil)
	require.NoError(t, err)
	_, err = node.NewLog(t.Context(), home, nil)
	require.NoError(t, err)
	return home
}

func peerOf(t testing.TB, n *node.Node, p peer.ID) (api.Peer, bool) {
	ps, err := n.Peers(t.Context())
	require.NoError(t, err)
	i := slices.IndexFunc(ps, func(x api.Peer) bool { return x.PeerID == p })
	if i < 0 {
		return api.Peer{}, false
	}
	return ps[i], true
}

// connectRot connects a and b with an invite of a's, b in aCircles.
func connectRot(t testing.TB, a, b *node.Node, aCircles ...string) {
	t.Helper()
	inv, err := a.Invite(t.Context(), api.InviteRequest{Circles: aCircles})
	require.NoError(t, err)
	res, err := b.Connect(t.Context(), api.ConnectRequest{Target: inv.Code})
	require.NoError(t, err)
	require.Equal(t, "accepted", res.Status)
	eventually(t, "both sides list the connection", func() bool {
		_, ab := peerOf(t, a, b.Host().ID())
		_, ba := peerOf(t, b, a.Host().ID())
		return ab && ba
	})
}

func TestRotateFollowedByFriend(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		rn := newRotNet(t)
		home := phraseHome(t)
		a := rn.homeNode(home)
		oldA := a.Host().ID()
		bobLogs := &logRecorder{}
		b := node.NewTest(t, "bob", node.WithHost(rn.host(identity.NewTest(t, "bob"))), node.WithLogger(slog.New(bobLogs)))

		_, err := a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}, Circles: []string{"friends", "work"}})
		require.NoError(t, err)
		_, err = b.AddCircle(ctx, "climbing")
		require.NoError(t, err)
		connectRot(t, a, b, "work")
		require.NoError(t, b.AssignCircles(ctx, api.AssignRequest{PeerID: oldA.String(), Circles: []string{"friends", "climbing"}}))
		require.NoError(t, b.AppendContact(ctx, oldA.String(), graph.Card{Fields: []graph.Field{{Name: "note", Value: "met at the crag"}}}))
		eventually(t, "bob reads alice's card", func() bool {
			p, _ := peerOf(t, b, oldA)
			return slices.Contains(p.Card.Values("fn"), "Alice")
		})
		before, _ := peerOf(t, b, oldA)

		res, err := a.Rotate(ctx, api.RotateRequest{Phrase: rotPhrase})
		require.NoError(t, err)
		root, err := identity.ParsePhrase(rotPhrase)
		require.NoError(t, err)
		next, err := root.IdentityAt(1)
		require.NoError(t, err)
		if res.OldPeerID != oldA || res.PeerID != next.PeerID() || res.Generation != 1 || res.Mode != graph.RotatePlanned {
			t.Fatalf("Rotate = %+v, want %s → %s at generation 1, planned", res, oldA, next.PeerID())
		}
		if _, err := a.SetMe(ctx, api.SetMeRequest{Field: "tel", Values: []string{"+1 555 0100"}}); !errors.Is(err, graph.ErrRotated) {
			t.Errorf("writing as the old identity after a rotation = %v, want ErrRotated", err)
		}
		if _, err := a.Rotate(ctx, api.RotateRequest{Phrase: rotPhrase}); !errors.Is(err, api.ErrExists) {
			t.Errorf("second Rotate = %v, want ErrExists", err)
		}

		eventually(t, "bob moves the connection to alice's new peer ID", func() bool {
			_, hasNew := peerOf(t, b, next.PeerID())
			_, hasOld := peerOf(t, b, oldA)
			return hasNew && !hasOld
		})

		// Until she restarts, her old identity still syncs; bob, who ended
		// the old connection, serves it its own log (which a rotation
		// ended) rather than answer "disconnected", which would stick to
		// bob in the store her new identity starts from.
		synced := func() time.Time {
			p, _ := peerOf(t, a, b.Host().ID())
			if p.LastSync == nil {
				return time.Time{}
			}
			return *p.LastSync
		}
		was := synced()
		require.NoError(t, rn.mn.DisconnectPeers(oldA, b.Host().ID()))
		_, err = rn.mn.ConnectPeers(oldA, b.Host().ID())
		require.NoError(t, err)
		dropped := func() bool { p, _ := peerOf(t, a, b.Host().ID()); return p.DisconnectedByThem }
		eventually(t, "the old identity syncs with bob again", func() bool { return synced().After(was) || dropped() })
		if dropped() || bobLogs.has(toldMsg) {
			t.Error("bob told the old identity it is disconnected: the new one would not sync with bob")
		}

		// Alice restarts on her new key: same home, a new host.
		require.NoError(t, a.Close())
		require.NoError(t, a.Host().Close())
		a2 := rn.homeNode(home)
		if a2.Host().ID() != next.PeerID() {
			t.Fatalf("restarted node runs as %s, want %s", a2.Host().ID(), next.PeerID())
		}
		if _, ok := peerOf(t, a2, b.Host().ID()); !ok {
			t.Fatal("the new identity lost its connection with bob")
		}
		_, err = rn.mn.ConnectPeers(a2.Host().ID(), b.Host().ID())
		require.NoError(t, err)

		eventually(t, "bob reads alice's card under her new peer ID", func() bool {
			p, _ := peerOf(t, b, next.PeerID())
			return slices.Contains(p.Card.Values("fn"), "Alice")
		})
		after, _ := peerOf(t, b, next.PeerID())
		if !slices.Equal(after.Circles, before.Circles) {
			t.Errorf("bob's circles for alice = %v, want %v", after.Circles, before.Circles)
		}
		c, err := b.Contact(ctx, next.PeerID().String())
		require.NoError(t, err)
		if c.Notes == nil || !slices.Contains(c.Notes.Values("note"), "met at the crag") {
			t.Errorf("bob's notes on alice after the rotation = %+v, want the note", c.Notes)
		}

		// Sync goes on: a change on the new identity reaches bob.
		_, err = a2.SetMe(ctx, api.SetMeRequest{Field: "tel", Values: []string{"+1 555 0100"}, Circles: []string{"work"}})
		require.NoError(t, err)
		eventually(t, "bob reads alice's new field", func() bool {
			p, _ := peerOf(t, b, next.PeerID())
			return len(p.Card.Values("tel")) == 1
		})
		// And bob's card reaches alice's new identity.
		_, err = b.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Bob"}, Circles: []string{"friends"}})
		require.NoError(t, err)
		eventually(t, "alice's new identity reads bob's card", func() bool {
			p, _ := peerOf(t, a2, b.Host().ID())
			return slices.Contains(p.Card.Values("fn"), "Bob")
		})
	})
}

func TestForgedRotationRefusedBySync(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		rn := newRotNet(t)
		a := rn.homeNode(phraseHome(t))
		logs := &logRecorder{}
		b := node.NewTest(t, "bob", node.WithHost(rn.host(identity.NewTest(t, "bob"))), node.WithLogger(slog.New(logs)))
		connectRot(t, a, b)
		oldA := a.Host().ID()
		held := func() uint64 {
			p, _ := peerOf(t, b, oldA)
			return uint64(p.Entries)
		}
		ps, err := a.Log(ctx, 0, 1000)
		require.NoError(t, err)
		last := ps[len(ps)-1]
		eventually(t, "bob holds alice's log", func() bool { return held() == last.Seq })

		// A thief with alice's device key and a recovery key of its own.
		thief, err := identity.NewRoot(nil)
		require.NoError(t, err)
		next, err := thief.IdentityAt(1)
		require.NoError(t, err)
		c, err := cid.Decode(last.CID)
		require.NoError(t, err)
		d, err := graph.RotationDraft(oldA, graph.Head{Seq: last.Seq, CID: c, Time: last.Time.UnixMilli()}, graph.RotateRecover, next, 1, thief.RecoveryKey())
		require.NoError(t, err)
		require.NoError(t, a.AppendUnchecked(ctx, d))

		eventually(t, "bob refuses the forged rotation", func() bool { return logs.has(refusedMsg) })
		if got := held(); got != last.Seq {
			t.Errorf("bob holds %d entries of alice's log, want %d (the forged rotation refused)", got, last.Seq)
		}
		if _, ok := peerOf(t, b, next.PeerID()); ok {
			t.Error("bob follows a forged rotation")
		}
		if _, ok := peerOf(t, b, oldA); !ok {
			t.Error("bob lost alice after a forged rotation")
		}
	})
}

// toldMsg is what a node logs when it cannot tell a peer it ended their
// connection (the peer takes no connect messages).
const toldMsg = "telling a peer I disconnected it"

// refusedMsg is what a node logs when it refuses a rotation.
const refusedMsg = "refused entries: an invalid or replayed rotation, or an entry after a rotation"

// logRecorder is a slog handler that keeps the messages it sees.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) has(msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.msgs, msg)
}

// A friend offline while a person rotates gets the rotation later from
// anyone who holds it: a common connection that followed it, or the
// person's new identity, which the friend does not know yet.
func TestRotationReachesOfflineFriend(t *testing.T) {
	for _, via := range []string{"a common friend", "the new identity"} {
		t.Run(via, func(t *testing.T) {
			inBubble(t, func(t *testing.T) {
				ctx := t.Context()
				rn := newRotNet(t)
				home := phraseHome(t)
				a := rn.homeNode(home)
				oldA := a.Host().ID()
				b := node.NewTest(t, "bob", node.WithHost(rn.host(identity.NewTest(t, "bob"))))
				c := node.NewTest(t, "carol", node.WithHost(rn.host(identity.NewTest(t, "carol"))))
				bID, cID := b.Host().ID(), c.Host().ID()
				_, err := a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
				require.NoError(t, err)
				connectRot(t, a, b)
				connectRot(t, a, c)
				connectRot(t, b, c)
				require.NoError(t, c.AppendContact(ctx, oldA.String(), graph.Card{Fields: []graph.Field{{Name: "note", Value: "lent her a book"}}}))
				eventually(t, "carol reads alice's card", func() bool {
					p, _ := peerOf(t, c, oldA)
					return slices.Contains(p.Card.Values("fn"), "Alice")
				})
				held, _ := peerOf(t, c, oldA)

				// Carol goes offline; alice rotates; bob follows.
				offline := func(x, y peer.ID) {
					require.NoError(t, rn.mn.UnlinkPeers(x, y))
					require.NoError(t, rn.mn.DisconnectPeers(x, y))
				}
				offline(cID, oldA)
				offline(cID, bID)
				res, err := a.Rotate(ctx, api.RotateRequest{Phrase: rotPhrase})
				require.NoError(t, err)
				eventually(t, "bob follows the rotation", func() bool {
					_, ok := peerOf(t, b, res.PeerID)
					return ok
				})
				// The old identity is gone for good.
				require.NoError(t, a.Close())
				require.NoError(t, a.Host().Close())
				if p, _ := peerOf(t, c, oldA); p.Entries != held.Entries {
					t.Fatalf("carol got %d entries of alice's log while offline, want %d", p.Entries, held.Entries)
				}

				switch via {
				case "a common friend":
					_, err := rn.mn.LinkPeers(cID, bID)
					require.NoError(t, err)
				case "the new identity":
					a2 := rn.homeNode(home) // links every host: carol only to alice's new one
					require.Equal(t, res.PeerID, a2.Host().ID())
					offline(cID, bID)
					require.NoError(t, rn.mn.UnlinkPeers(bID, a2.Host().ID()))
				}
				eventually(t, "carol follows alice to her new peer ID", func() bool {
					_, hasNew := peerOf(t, c, res.PeerID)
					_, hasOld := peerOf(t, c, oldA)
					return hasNew && !hasOld
				})
				n, err := c.Contact(ctx, res.PeerID.String())
				require.NoError(t, err)
				if n.Notes == nil || !slices.Contains(n.Notes.Values("note"), "lent her a book") {
					t.Errorf("carol's notes on alice after the rotation = %+v, want the note", n.Notes)
				}
			})
		})
	}
}

// After a rotation and the loss of the home, the phrase and one friend
// give back the current identity, not the retired one: `init --recover`
// derives generation 0, and the restore finds the rotation in the log the
// friend gives back and moves the home's key to its generation.
//
// It runs on the wall clock: the restore's pull and the one its dial
// schedules both take my log back, and one waits on the writer's mutex
// while the other's store write may wait out a busy database, which a
// synctest bubble would never let pass (see inBubble).
func TestRecoverAfterRotation(t *testing.T) {
	func(t *testing.T) {
		ctx := t.Context()
		rn := newRotNet(t)
		lost := phraseHome(t)
		a := rn.homeNode(lost)
		oldA := a.Host().ID()
		b := node.NewTest(t, "bob", node.WithHost(rn.host(identity.NewTest(t, "bob"))))
		_, err := a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
		require.NoError(t, err)
		connectRot(t, a, b, "friends")
		// No wait for alice to hold bob's key: a key that arrives while the
		// rotation carries her cards over is sealed to when her new
		// identity's node starts (resealCards).
		rot, err := a.Rotate(ctx, api.RotateRequest{Phrase: rotPhrase})
		require.NoError(t, err)
		eventually(t, "bob follows the rotation", func() bool {
			_, ok := peerOf(t, b, rot.PeerID)
			return ok
		})
		// Alice runs as her new identity, which bob syncs; then the device
		// is lost.
		gone(t, rn, a, b)
		a = rn.homeNode(lost)
		eventually(t, "bob reads alice's card under her new identity", func() bool {
			p, _ := peerOf(t, b, rot.PeerID)
			return slices.Contains(p.Card.Values("fn"), "Alice")
		})
		gone(t, rn, a, b)

		home := t.TempDir()
		_, err = node.Recover(ctx, home, rotPhrase, nil)
		require.NoError(t, err)
		a0 := rn.homeNode(home)
		require.Equal(t, oldA, a0.Host().ID(), "init --recover derives generation 0")
		bob := fmt.Sprintf("%s/p2p/%s", b.Host().Addrs()[0], b.Host().ID())
		if _, err := a0.Restore(ctx, api.RestoreRequest{Target: bob}); !errors.Is(err, api.ErrNeedPhrase) {
			t.Fatalf("Restore of a rotated identity without the phrase = %v, want ErrNeedPhrase", err)
		}
		if _, err := a0.SetMe(ctx, api.SetMeRequest{Field: "tel", Values: []string{"+1 555 0100"}}); !errors.Is(err, graph.ErrRotated) {
			t.Errorf("writing as the retired identity = %v, want ErrRotated", err)
		}
		res, err := a0.Restore(ctx, api.RestoreRequest{Target: bob, Phrase: rotPhrase})
		require.NoError(t, err)
		if res.PeerID != rot.PeerID || res.Generation != 1 || !slices.Equal(res.Rotated, []peer.ID{oldA}) || !res.Restart {
			t.Fatalf("Restore = %+v, want a move to %s (generation 1) from %s, to restart", res, rot.PeerID, oldA)
		}
		gone(t, rn, a0, b)

		a1 := rn.homeNode(home)
		if a1.Host().ID() != rot.PeerID {
			t.Fatalf("the recovered home runs as %s, want %s (the identity after the rotation)", a1.Host().ID(), rot.PeerID)
		}
		res, err = a1.Restore(ctx, api.RestoreRequest{Target: bob})
		require.NoError(t, err)
		if !res.Connection || res.PeerID != rot.PeerID {
			t.Errorf("Restore as the new identity = %+v, want its log back from bob, a connection", res)
		}
		me, err := a1.Me(ctx, "")
		require.NoError(t, err)
		if !slices.ContainsFunc(me.Fields, func(f api.ProfileField) bool { return f.Name == "fn" && f.Value == "Alice" }) {
			t.Errorf("recovered card = %+v, want fn Alice", me.Fields)
		}
		if p, ok := peerOf(t, a1, b.Host().ID()); !ok || p.DisconnectedByThem {
			t.Errorf("the recovered identity's connection with bob = %+v, %v; want it, syncing", p, ok)
		}
		if _, err := a1.SetMe(ctx, api.SetMeRequest{Field: "tel", Values: []string{"+1 555 0100"}, Circles: []string{"friends"}}); err != nil {
			t.Errorf("writing as the recovered identity: %v", err)
		}
		// That bob then syncs with the recovered device is the e2e drill's
		// (TestDrillLostPhoneAfterRotation): a mocknet cannot tell two hosts
		// of one peer ID apart.
	}(t)
}

// gone stops n and its host for good. The mocknet knows a host by its
// peer ID, and a later host of the same key (a recovered device) must not
// be reached through the links and connections of the one gone: they are
// dropped first.
func gone(t testing.TB, rn *rotNet, n, peer *node.Node) {
	t.Helper()
	require.NoError(t, n.Close())
	rn.mn.DisconnectPeers(n.Host().ID(), peer.Host().ID())
	rn.mn.UnlinkPeers(n.Host().ID(), peer.Host().ID())
	require.NoError(t, n.Host().Close())
}

// A thief with the device key wrote after the owner's last entry; the
// owner's recovery rotation ends the log at that entry (--at), and a
// friend holding the thief's entries drops them and follows the rotation
// instead of seeing a fork.
func TestRecoverRotationOverThiefEntries(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		rn := newRotNet(t)
		a := rn.homeNode(phraseHome(t))
		oldA := a.Host().ID()
		b := node.NewTest(t, "bob", node.WithHost(rn.host(identity.NewTest(t, "bob"))))
		_, err := a.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Alice"}})
		require.NoError(t, err)
		connectRot(t, a, b, "friends")
		ps, err := a.Log(ctx, 0, 1000)
		require.NoError(t, err)
		last := ps[len(ps)-1].Seq
		// The thief writes with the stolen key.
		_, err = a.SetMe(ctx, api.SetMeRequest{Field: "tel", Values: []string{"+1 555 0666"}, Circles: []string{"friends"}})
		require.NoError(t, err)
		eventually(t, "bob holds the thief's entries", func() bool {
			p, _ := peerOf(t, b, oldA)
			return uint64(p.Entries) > last && len(p.Card.Values("tel")) == 1
		})

		res, err := a.Rotate(ctx, api.RotateRequest{Phrase: rotPhrase, Recover: true, At: last})
		require.NoError(t, err)
		eventually(t, "bob follows the recovery rotation", func() bool {
			_, ok := peerOf(t, b, res.PeerID)
			return ok
		})
		h, err := b.Store().Head(ctx, oldA)
		require.NoError(t, err)
		if h.Seq != last+1 {
			t.Errorf("bob's copy of the old log ends at seq %d, want %d (the rotation after the owner's last entry)", h.Seq, last+1)
		}
		if forks, err := b.Store().Forks(ctx); err != nil || len(forks) != 0 {
			t.Errorf("bob's fork evidence = %v, %v; want none", forks, err)
		}
		if _, err := a.Rotate(ctx, api.RotateRequest{Phrase: rotPhrase, At: 3}); !errors.Is(err, api.ErrExists) {
			t.Errorf("Rotate again = %v, want ErrExists", err)
		}
	})
}
