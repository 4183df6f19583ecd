package logsync_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/internal/p2putil"
	"github.com/kith-p2p/kith/node/logsync"
)

// The service runs on a host, a store and a writer, with its view of
// peers as a small interface: here a fixed set of connections.

type peers struct {
	with    map[peer.ID]bool
	keys    chan peer.ID
	refused chan peer.ID
}

func (p *peers) SyncsWith(_ context.Context, q peer.ID) bool { return p.with[q] }
func (p *peers) Active(context.Context) ([]peer.ID, error) {
	var out []peer.ID
	for q := range p.with {
		out = append(out, q)
	}
	return out, nil
}
func (p *peers) Refused(q peer.ID) { p.refused <- q }
func (p *peers) KeysArrived(_ context.Context, q peer.ID) error {
	p.keys <- q
	return nil
}

// plainStore is the store as the service takes it: no log here ended
// with a rotation, unless a test says so.
type plainStore struct {
	*store.Store
	mu     sync.Mutex
	closed []peer.ID
}

func (s *plainStore) Closed(context.Context) ([]peer.ID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed, nil
}

func (s *plainStore) setClosed(ps ...peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = ps
}

// plainWriter is a graph.Writer as logsync's Writer: it never rebases.
type plainWriter struct{ *graph.Writer }

func (plainWriter) Rebase(context.Context, []*graph.Entry) (int, int, error) {
	return 0, 0, errors.New("no rebase in this test")
}
func (plainWriter) Learnt(peer.ID)     {}
func (plainWriter) Blind(cid.Cid) bool { return false }

type side struct {
	id    *identity.Identity
	st    *store.Store
	ps    *plainStore
	w     *graph.Writer
	svc   *logsync.Service
	peers *peers
}

func newSide(t *testing.T, mn mocknet.Mocknet, label string, i int) *side {
	t.Helper()
	ctx := t.Context()
	s := &side{id: identity.NewTest(t, label), st: store.NewTest(t, book.Index{}), peers: &peers{with: map[peer.ID]bool{}, keys: make(chan peer.ID, 16), refused: make(chan peer.ID, 16)}}
	h, err := mn.AddPeer(s.id.PrivKey(), ma.StringCast(fmt.Sprintf("/ip6/100::%x/tcp/4242", i)))
	require.NoError(t, err)
	s.w, err = graph.NewWriter(ctx, s.id, s.st, time.Now)
	require.NoError(t, err)
	_, err = s.w.Append(ctx,
		graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: make([]byte, 32)}, To: graph.Audience{Public: true}},
		graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: s.id.EncryptionKey()}, To: graph.Audience{Public: true}})
	require.NoError(t, err)
	tun := logsync.DefaultTuning
	tun.IdleTimeout = 5 * time.Second
	s.ps = &plainStore{Store: s.st}
	s.svc = logsync.New(logsync.Config{Host: h, Self: s.id.PeerID(), Open: graph.Opener(s.id), Store: s.ps, Writer: plainWriter{s.w},
		Peers: s.peers, Limiter: p2putil.NewLimiter(100, 100), Tuning: tun, Now: time.Now, Log: nil})
	t.Cleanup(func() { require.NoError(t, s.svc.Close()) })
	return s
}

func TestPullVerifiesAndStores(t *testing.T) {
	ctx := t.Context()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	alice, bob := newSide(t, mn, "alice", 1), newSide(t, mn, "bob", 2)
	require.NoError(t, mn.LinkAll())
	require.NoError(t, mn.ConnectAllButSelf())
	alice.peers.with[bob.id.PeerID()] = true
	bob.peers.with[alice.id.PeerID()] = true

	for i := range 5 {
		_, err := alice.w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: fmt.Sprintf("c%d", i)}, To: graph.Audience{Self: true}})
		require.NoError(t, err)
	}
	require.NoError(t, bob.svc.Pull(ctx, alice.id.PeerID()))
	h, err := bob.st.Head(ctx, alice.id.PeerID())
	require.NoError(t, err)
	require.Equal(t, alice.w.Head(), h, "bob holds alice's whole log")
	require.Equal(t, alice.id.PeerID(), <-bob.peers.keys, "alice's key arrived with it")
	r, err := bob.st.Record(ctx, alice.id.PeerID(), graph.KindKeys, "")
	require.NoError(t, err)
	require.Equal(t, alice.id.EncryptionKey(), r.Body.Enc)
}

// A peer that is not one to sync with is refused, and told of.
func TestServeRefusesStrangers(t *testing.T) {
	ctx := t.Context()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	alice, mallory := newSide(t, mn, "alice", 1), newSide(t, mn, "mallory", 2)
	require.NoError(t, mn.LinkAll())
	require.NoError(t, mn.ConnectAllButSelf())
	mallory.peers.with[alice.id.PeerID()] = true // mallory wants alice; alice does not know her
	require.Error(t, mallory.svc.Pull(ctx, alice.id.PeerID()))
	require.Equal(t, mallory.id.PeerID(), <-alice.peers.refused)
	h, err := mallory.st.Head(ctx, alice.id.PeerID())
	require.NoError(t, err)
	require.Zero(t, h.Seq, "nothing of alice's log reached mallory")
}

// A log that a rotation ended is offered to connections; a node takes a
// log of its connection from whoever offers a later head of it, even a
// peer that is not one of its connections (a friend's new identity), and
// serves nothing else to that peer.
func TestOfferedLogTaken(t *testing.T) {
	ctx := t.Context()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	alice, bob, carol := newSide(t, mn, "alice", 1), newSide(t, mn, "bob", 2), newSide(t, mn, "carol", 3)
	require.NoError(t, mn.LinkAll())
	require.NoError(t, mn.ConnectAllButSelf())
	a := alice.id.PeerID()
	carol.peers.with[a] = true // alice is carol's connection; bob is not
	bob.peers.with[carol.id.PeerID()] = true
	bob.peers.with[a] = true
	alice.peers.with[bob.id.PeerID()] = true
	alice.peers.with[carol.id.PeerID()] = true

	require.NoError(t, carol.svc.Pull(ctx, a)) // carol holds alice's log so far
	_, err := alice.w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: "later"}, To: graph.Audience{Self: true}})
	require.NoError(t, err)
	require.NoError(t, bob.svc.Pull(ctx, a)) // bob holds it all
	bob.ps.setClosed(a)                      // and alice's log ended there (say)

	head := func(s *side) uint64 {
		h, err := s.st.Head(ctx, a)
		require.NoError(t, err)
		return h.Seq
	}
	require.Less(t, head(carol), head(bob))
	// bob syncs with carol, who does not know him: his request offers
	// alice's log at its head.
	require.NoError(t, bob.svc.Pull(ctx, carol.id.PeerID()))
	deadline := time.Now().Add(5 * time.Second)
	for head(carol) != head(bob) {
		if time.Now().After(deadline) {
			t.Fatalf("carol holds alice's log up to %d, want %d (taken from bob's offer)", head(carol), head(bob))
		}
		time.Sleep(10 * time.Millisecond)
	}
	h, err := carol.st.Head(ctx, bob.id.PeerID())
	require.NoError(t, err)
	require.Zero(t, h.Seq, "carol took only the offered log from bob")
	hb, err := bob.st.Head(ctx, carol.id.PeerID())
	require.NoError(t, err)
	require.Zero(t, hb.Seq, "carol served bob nothing")
}
