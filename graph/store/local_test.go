package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

func TestRequestsAndDeclines(t *testing.T) {
	ctx := t.Context()
	st := store.NewTest(t, book.Index{})
	alice, bob := identity.NewTest(t, "alice").PeerID(), identity.NewTest(t, "bob").PeerID()
	t0 := time.UnixMilli(1_700_000_000_000)

	require.NoError(t, st.PutRequest(ctx, store.Request{Peer: alice, Note: "hi", Time: t0}))
	require.NoError(t, st.PutRequest(ctx, store.Request{Peer: bob, Outgoing: true, Circles: []string{"family", "friends"}, Time: t0.Add(time.Second)}))
	rs, err := st.Requests(ctx)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	require.Equal(t, alice, rs[0].Peer, "oldest first")
	require.Equal(t, []string{"family", "friends"}, rs[1].Circles)
	n, err := st.CountRequests(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only incoming requests count against the limit")

	// Declining forgets the request and remembers the answer.
	require.NoError(t, st.Decline(ctx, alice, t0))
	_, err = st.GetRequest(ctx, alice)
	require.ErrorIs(t, err, graph.ErrNotFound)
	d, err := st.Declined(ctx, alice)
	require.NoError(t, err)
	require.True(t, d)
	require.NoError(t, st.Decline(ctx, alice, t0.Add(time.Hour)), "declining twice")
	require.NoError(t, st.ForgetDeclined(ctx, alice))
	d, err = st.Declined(ctx, alice)
	require.NoError(t, err)
	require.False(t, d)
}

func TestInviteOneUse(t *testing.T) {
	ctx := t.Context()
	st := store.NewTest(t, book.Index{})
	now := time.Unix(1_700_000_000, 0)
	require.NoError(t, st.PutInvite(ctx, []byte("secret-1"), now.Add(time.Hour), []string{"friends"}))
	require.NoError(t, st.PutInvite(ctx, []byte("secret-2"), now.Add(time.Second), nil))

	_, err := st.UseInvite(ctx, []byte("unknown"), now)
	require.ErrorIs(t, err, store.ErrInviteInvalid)
	_, err = st.UseInvite(ctx, []byte("secret-2"), now.Add(time.Second))
	require.ErrorIs(t, err, store.ErrInviteInvalid, "expired")

	// Ten concurrent uses: exactly one wins.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 10 {
		wg.Go(func() {
			cs, err := st.UseInvite(ctx, []byte("secret-1"), now)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
				require.Equal(t, []string{"friends"}, cs)
			} else {
				require.ErrorIs(t, err, store.ErrInviteInvalid)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, wins)
}

func TestPeerInfo(t *testing.T) {
	ctx := t.Context()
	st := store.NewTest(t, book.Index{})
	p := identity.NewTest(t, "p").PeerID()
	pi, err := st.PeerInfo(ctx, p)
	require.NoError(t, err)
	require.Empty(t, pi.Addrs)
	require.True(t, pi.LastSync.IsZero())

	at := time.UnixMilli(1_700_000_000_123)
	require.NoError(t, st.MarkSynced(ctx, p, at))
	require.NoError(t, st.PutPeerAddrs(ctx, p, []string{"/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/udp/4001/quic-v1"}))
	pi, err = st.PeerInfo(ctx, p)
	require.NoError(t, err)
	require.Len(t, pi.Addrs, 2)
	require.True(t, pi.LastSync.Equal(at), "addresses do not overwrite the sync time")
}
